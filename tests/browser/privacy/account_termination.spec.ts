import { test } from '@japa/runner'
import AccountTermination from '#privacy/models/account_termination'
import AccountTerminationService from '#privacy/services/account_termination_service'
import { TEST_PASSWORD } from '#tests/support/accounts'
import { Created, loginThroughForm, uniqueCompany, uniqueUser } from '#tests/support/browser'

/**
 * The owner ends the account in the browser: the page names the end date, a wrong company name
 * terminates nothing, the right one does; the termination is withdrawn and given again; after the
 * end date the owner logs in to invoices and the export only, a member not at all.
 */
test.group('Account termination in the browser', (group) => {
  const created = new Created()
  group.each.teardown(() => created.cleanup())

  test('an owner terminates, withdraws, terminates again, and after the end reads invoices only', async ({
    visit,
    assert,
  }) => {
    const company = await uniqueCompany(created, 'active')
    const owner = await uniqueUser(created, 'owner', company)
    const member = await uniqueUser(created, 'member', company)
    const page = await visit('/login')
    await loginThroughForm(page, owner.email)
    // The page is in the menu "Datenschutz & Vertrag"
    await page.assertNotVisible('nav a[href="/app/account/end"]')
    await page.click('#nav-privacy summary')
    await page.click('nav a[href="/app/account/end"]')
    await page.assertPath('/app/account/end')
    await page.assertTextContains('#termination-date', 'Der Vertrag endet mit Ablauf des')

    await page.fill('#field-company_name', 'Falscher Name GmbH')
    await Promise.all([page.waitForURL('**/app/account/end'), page.click('#terminate-form button')])
    await page.assertTextContains('body', 'stimmt nicht mit dem Firmennamen')
    await page.assertExists('#termination-state[data-state="none"]')

    await page.fill('#field-company_name', company.legalName)
    await Promise.all([page.waitForURL('**/app/account/end'), page.click('#terminate-form button')])
    await page.assertExists('#termination-state[data-state="pending"]')
    await Promise.all([page.waitForURL('**/app/account/end'), page.click('#withdraw-form button')])
    await page.assertTextContains('body', 'Die Kündigung ist zurückgenommen')
    await page.fill('#field-company_name', company.legalName)
    await Promise.all([page.waitForURL('**/app/account/end'), page.click('#terminate-form button')])
    await page.assertExists('#termination-state[data-state="pending"]')

    // The end date comes (the job's clock set to it)
    const termination = await AccountTermination.query()
      .where('company_id', company.id)
      .whereNull('withdrawn_at')
      .firstOrFail()
    assert.equal(await new AccountTerminationService().carryOutDue(termination.endsAt), 1)

    await loginThroughForm(page, owner.email)
    await page.goto('/app')
    await page.assertExists('#account-ended')
    await Promise.all([
      page.waitForURL('**/app/invoices'),
      page.click('#ended-links a[href="/app/invoices"]'),
    ])
    await page.goto('/app/phone')
    await page.assertTextContains('#ended-refused', 'auch Anrufe nicht')

    // A member is locked out
    await page.context().clearCookies()
    await page.goto('/login')
    await page.fill('#field-email', member.email)
    await page.fill('#field-password', TEST_PASSWORD)
    await page.click('#login-form button[type="submit"]')
    await page.assertTextContains('body', 'Der Vertrag für dieses Konto ist beendet')
    await page.assertPath('/login')
  })
})
