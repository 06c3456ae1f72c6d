import { test } from '@japa/runner'
import { webPhoneGroup } from '#tests/browser/phone/phone_pages'
import { launchPhoneBrowser } from '#tests/support/chromium'
import { loopbackCarriers } from '#tests/support/calls'
import { startSipp } from '#tests/support/sip_peers'
import { loginThroughForm, uniqueCompany, uniqueUser } from '#tests/support/browser'
import DpaAcceptance from '#privacy/models/dpa_acceptance'

/**
 * The DPA gate from the web phone: before the owner accepts, the page shows the banner and a call
 * is refused with the reason in words; the owner accepts on the DPA page in the browser, and the
 * next call passes the gate and reaches the carrier (a sipp carrier answering 486 Busy Here).
 */
const REGISTERED = '#web-phone[data-phone-state="registered"]'

test.group('DPA gate: the web phone', (group) => {
  const { created, cleanups, userIds } = webPhoneGroup(group)

  test('refused with the reason in words until the owner accepts on the DPA page; then the call reaches the carrier', async ({
    assert,
  }) => {
    const carrier = await startSipp({
      scenario: 'carrier_486.xml',
      transport: 'u1',
      timeoutSeconds: 60,
      traceMessages: true,
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const company = await uniqueCompany(created, 'active', { dpaAccepted: false })
    const owner = await uniqueUser(created, 'owner', company)
    userIds.push(owner.id)

    const browser = await launchPhoneBrowser()
    cleanups.push(() => browser.close())
    const context = await browser.newContext({
      baseURL: `http://${process.env.HOST}:${process.env.PORT}`,
      locale: 'de-DE',
      permissions: ['microphone'],
    })
    const page = await context.newPage()
    await loginThroughForm(page, owner.email)
    await page.goto('/app/phone')
    assert.equal(await page.getAttribute('#dpa-banner', 'data-state'), 'required')
    await page.waitForSelector(REGISTERED, { timeout: 30_000 })

    await page.fill('#phone-number', '030 1234 5678')
    await page.click('#phone-call')
    await page.waitForSelector(
      '#web-phone[data-phone-last-status="403"] #phone-outcome[data-reason="reason.dpa_missing"]',
      { timeout: 15_000 }
    )
    assert.include(
      await page.textContent('#phone-outcome-text'),
      'Vertrag über die Auftragsverarbeitung (AVV) noch nicht angenommen'
    )
    assert.notMatch(carrier.messages(), /INVITE sip:/, 'the carrier got no INVITE')
    await page.click('#phone-outcome-dismiss')

    await page.click('#dpa-banner a')
    await page.waitForSelector('#dpa-accept-form')
    await page.check('#dpa-accept-form input[name="confirm"]')
    await Promise.all([
      page.waitForSelector('#dpa-state[data-state="accepted"]'),
      page.click('#dpa-accept-form button[type="submit"]'),
    ])
    assert.equal(await page.locator('#dpa-banner').count(), 0)
    const acceptance = await DpaAcceptance.findByOrFail('company_id', company.id)
    assert.equal(acceptance.acceptedByUserId, owner.id)

    await page.goto('/app/phone')
    await page.waitForSelector(REGISTERED, { timeout: 30_000 })
    await page.fill('#phone-number', '030 1234 5678')
    await page.click('#phone-call')
    await page.waitForSelector('#web-phone[data-phone-state="busy"]', { timeout: 15_000 })
    assert.match(carrier.messages(), /INVITE sip:/, 'after acceptance the call reached the carrier')
  }).timeout(120_000)
})
