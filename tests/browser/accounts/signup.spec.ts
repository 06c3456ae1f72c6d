import { test } from '@japa/runner'
import Company from '#accounts/models/company'
import User from '#accounts/models/user'
import { Created, uniqueTag } from '#tests/support/browser'
import { TEST_PASSWORD } from '#tests/support/accounts'
import type { Page } from 'playwright-core'
import { drainJobs } from '#tests/support/jobs'
import { lastMailTo } from '#tests/support/mail'

/** Fills every field of the sign-up form; `vatId` lets a test type a wrong one. */
async function fillSignupForm(
  page: Page,
  data: { legalName: string; email: string; vatId: string }
) {
  await page.fill('#field-legal_name', data.legalName)
  await page.fill('#field-legal_form', 'GmbH')
  await page.selectOption('#field-country', 'DE')
  await page.fill('#field-vat_id', data.vatId)
  await page.fill('#field-billing_street', 'Musterstraße 12')
  await page.fill('#field-billing_postal_code', '10115')
  await page.fill('#field-billing_city', 'Berlin')
  await page.selectOption('#field-data_residency', 'eu_only')
  await page.fill('#field-privacy_contact_name', 'Dana Datenschutz')
  await page.fill('#field-privacy_contact_email', `dsb-${data.email}`)
  await page.fill('#field-full_name', 'Olga Owner')
  await page.fill('#field-email', data.email)
  await page.fill('#field-password', TEST_PASSWORD)
  await page.fill('#field-password_confirmation', TEST_PASSWORD)
  await page.check('#field-business_confirmation')
}

test.group('Sign-up in the browser', (group) => {
  const created = new Created()
  group.each.teardown(() => created.cleanup())

  test('a company signs up, confirms the address by the mailed link and lands in the customer area as pending', async ({
    visit,
    assert,
  }) => {
    const tag = uniqueTag()
    const email = `owner-${tag}@example.test`
    const legalName = `Signup ${tag}`
    created.email(email)

    const page = await visit('/signup')
    await page.assertTextContains('.b2b-notice', 'Verbraucher können FluffyCall nicht nutzen')
    await fillSignupForm(page, { legalName, email, vatId: 'DE 123 456 789' })
    await Promise.all([
      page.waitForURL('**/login'),
      page.click('#signup-form button[type="submit"]'),
    ])
    await page.assertTextContains('main', 'Bitte bestätigen Sie Ihre Adresse')

    await drainJobs()
    const link = (await lastMailTo(email))?.html.match(
      /https?:\/\/[^"]+\/signup\/confirm\/[A-Za-z0-9_-]+/
    )?.[0]
    assert.isString(link, 'the confirmation mail holds the link')
    await Promise.all([page.waitForURL('**/app'), page.goto(new URL(link!).pathname)])

    await page.assertPath('/app')
    await page.assertTextContains('main', legalName)
    await page.assertText('#company-status', 'in Prüfung')
    await page.assertTextContains('main', 'Ihre Firma wird von uns geprüft')

    const owner = await User.findByOrFail('email', email)
    const company = await Company.findOrFail(owner.companyId!)
    assert.equal(company.status, 'pending')
    assert.equal(company.vatId, 'DE123456789')
    assert.equal(company.privacyContactName, 'Dana Datenschutz')
  })

  test('an invalid VAT ID is shown next to that field and the typed values stay', async ({
    visit,
    assert,
  }) => {
    const tag = uniqueTag()
    const email = `owner-${tag}@example.test`
    const legalName = `Signup ${tag}`
    created.email(email)

    const page = await visit('/signup')
    await fillSignupForm(page, { legalName, email, vatId: 'DE12345' })
    await Promise.all([
      page.waitForURL('**/signup'),
      page.click('#signup-form button[type="submit"]'),
    ])

    await page.assertPath('/signup')
    await page.assertVisible('[data-error-for="vat_id"]')
    // the message sits inside the VAT ID field's own block, right after its input
    const errorField = await page
      .locator('[data-error-for="vat_id"]')
      .evaluate((el) => el.closest('.field')?.querySelector('input')?.name)
    assert.equal(errorField, 'vat_id')
    await page.assertNotExists('[data-error-for="legal_name"]')
    await page.assertNotExists('[data-error-for="email"]')

    await page.assertInputValue('#field-legal_name', legalName)
    await page.assertInputValue('#field-vat_id', 'DE12345')
    await page.assertInputValue('#field-billing_city', 'Berlin')
    await page.assertInputValue('#field-privacy_contact_name', 'Dana Datenschutz')
    await page.assertInputValue('#field-email', email)
    await page.assertInputValue('#field-password', '')
    await page.assertChecked('#field-business_confirmation')

    await page.screenshot({ path: 'tmp/screens/signup_errors.png', fullPage: true })
    assert.isNull(await User.findBy('email', email))
  })
})
