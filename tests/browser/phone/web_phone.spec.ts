import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import edge from 'edge.js'
import env from '#start/env'
import PhoneNumber from '#calls/models/phone_number'
import { forgetPhoneUsers } from '#tests/support/calls'
import { Created, loginThroughForm, uniqueCompany, uniqueUser } from '#tests/support/browser'
import { TEST_PASSWORD } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { userSubject } from '#calls/signalling/sip_subject'

/**
 * The web phone in Debian's Chromium: the page fetches its SIP login, sip.js connects to our SIP
 * WebSocket on the same origin and registers with digest. Calls through the page are tested once
 * the B2BUA answers them.
 */

const REGISTERED = '#web-phone[data-phone-state="registered"]'

test.group('Web phone in the browser', (group) => {
  const created = new Created()
  const userIds: number[] = []
  group.each.teardown(async () => {
    await forgetPhoneUsers(userIds)
    await created.cleanup()
  })

  test('the phone registers over the SIP WebSocket, offers the company’s numbers, and logging out ends the registration', async ({
    visit,
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'member', company)
    userIds.push(user.id)
    const number = `+4930${String(Date.now()).slice(-8)}`
    await PhoneNumber.create({
      number,
      carrierName: 'local',
      companyId: company.id,
      userId: user.id,
    })

    const page = await visit('/login')
    await loginThroughForm(page, user.email)
    await page.goto('/app/phone')
    await page.waitForSelector(REGISTERED, { timeout: 30_000 })
    await page.assertTextContains('#phone-status', 'Bereit')
    await page.assertTextContains('#phone-never-recorded', 'nie aufgezeichnet')
    assert.isFalse(
      await page.locator('#phone-call').isDisabled(),
      'the call button is enabled once registered'
    )
    for (const inCallOnly of [
      '#phone-hangup',
      '#phone-mute',
      '#phone-hold',
      '#phone-incoming',
      '#phone-timer',
    ]) {
      assert.isFalse(
        await page.locator(inCallOnly).isVisible(),
        `${inCallOnly} shows only during a call`
      )
    }

    const stack = await app.container.make('sip.stack')
    const bindings = await stack.registrar.registrar.lookupSubject(userSubject(user.id))
    assert.lengthOf(bindings, 1)
    assert.equal(bindings[0].source.protocol, 'ws')
    // What the page's script exposes as window.__phone (resources/js/phone/main.ts).
    type ExposedPhone = { __phone?: { login: { aor: string; password?: string } | null } }
    const login = await page.evaluate(() => (globalThis as unknown as ExposedPhone).__phone?.login)
    assert.equal(bindings[0].aor, login?.aor)
    assert.notProperty(login ?? {}, 'password', 'the password stays inside the phone')

    // Caller ID choice and CLIR default come from the login.
    assert.equal(await page.locator('#phone-caller-id').inputValue(), number)
    assert.equal(
      (await page.locator('#phone-caller-id option:checked').textContent())?.trim(),
      number.replace(/^\+49(\d\d)/, '+49 $1 '),
      'shown grouped, sent as E.164'
    )
    assert.isFalse(await page.locator('#phone-withhold').isChecked())

    // Dial pad and number check before anything is sent.
    for (const key of ['0', '3', '0']) await page.click(`#phone-dialpad button[data-key="${key}"]`)
    assert.equal(await page.locator('#phone-number').inputValue(), '030')
    await page.click('#phone-call')
    await page.assertVisible('#phone-number-error')
    await page.assertTextContains('#phone-number-error', 'ungültig')
    assert.equal(
      await page.getAttribute('#web-phone', 'data-phone-state'),
      'registered',
      'nothing was dialled'
    )

    await page.screenshot({ path: 'tmp/screens/web_phone_registered.png', fullPage: true })
    await Promise.all([page.waitForURL('**/login'), page.click('form.logout button')])
    const deadline = Date.now() + 5000
    while (
      (await stack.registrar.registrar.lookupSubject(userSubject(user.id))).length > 0 &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.lengthOf(
      await stack.registrar.registrar.lookupSubject(userSubject(user.id)),
      0,
      'logout ended the registration'
    )
  }).timeout(90_000)

  test('opening the phone page again and again and leaving it writes nothing into the company’s security log', async ({
    visit,
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'member', company)
    userIds.push(user.id)
    const page = await visit('/login')
    await loginThroughForm(page, user.email)
    const mark = await auditMark()

    for (let view = 0; view < 3; view++) {
      await page.goto('/app/phone')
      await page.waitForSelector(REGISTERED, { timeout: 30_000 })
    }
    // Leaving the page: the phone un-registers (re-sending its old nonce) and its socket closes.
    await page.goto('/app/devices')
    const stack = await app.container.make('sip.stack')
    const deadline = Date.now() + 5000
    while (
      (await stack.registrar.registrar.lookupSubject(userSubject(user.id))).length > 0 &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.lengthOf(await stack.registrar.registrar.lookupSubject(userSubject(user.id)), 0)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const entries = await auditSince(mark).where('company_id', company.id).orderBy('id')
    assert.deepEqual(
      entries.map((entry) => [entry.action, entry.details?.reason]),
      [],
      'no "credential issued" per page view, no sip.auth.failed per refresh or page exit'
    )
  }).timeout(90_000)

  test('opened at 127.0.0.1 instead of localhost the phone registers (development); where the server refuses the origin it says why and where it works', async ({
    visit,
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'member', company)
    userIds.push(user.id)
    const port = env.get('PORT')
    // Logged in at 127.0.0.1 itself (loginThroughForm would use the base URL, localhost).
    const page = await visit(`http://127.0.0.1:${port}/login`)
    await page.fill('#field-email', user.email)
    await page.fill('#field-password', TEST_PASSWORD)
    await Promise.all([
      page.waitForURL((url) => url.pathname !== '/login'),
      page.click('#login-form button[type="submit"]'),
    ])
    await page.goto(`http://127.0.0.1:${port}/app/devices`)
    await page.waitForSelector(REGISTERED, { timeout: 30_000 })
    assert.isFalse(await page.locator('#phone-origin-refused').isVisible())

    // A server that takes phone connections only from its configured origin (as in production).
    const own = `http://localhost:${port}`
    edge.global('sipAllowedOrigins', [own])
    try {
      await page.goto(`http://127.0.0.1:${port}/app/calls`)
      await page.waitForSelector('#web-phone[data-phone-state="origin_refused"]', {
        timeout: 10_000,
      })
      await page.assertTextContains('#phone-origin-refused', 'nicht mit FluffyCall verbinden')
      assert.equal(await page.getAttribute('#phone-origin-refused a', 'href'), `${own}/app`)
    } finally {
      edge.global(
        'sipAllowedOrigins',
        (app.config.get('sip') as { ws: { allowedOrigins: string[] } }).ws.allowedOrigins
      )
    }
  }).timeout(90_000)
})
