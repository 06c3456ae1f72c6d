import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { generate } from 'otplib'
import CompanyService from '#accounts/services/company_service'
import WebPhoneCredentialService from '#calls/services/web_phone_credential_service'
import { makeCompany, makeUser, TEST_PASSWORD } from '#tests/support/accounts'
import { BrowserSession } from '#tests/support/browser_session'
import { enableTwoFactor } from '#tests/support/two_factor'

const SESSION_COOKIE = 'fluffycall-session'

/**
 * Web sessions end on the server: a cookie copied before logout, a password change or a
 * revocation from another device opens nothing afterwards; the security page lists the sessions
 * and ends them one by one or all others; a terminated company's open sessions end at once.
 */

const FIREFOX_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0'
const CHROME_LINUX =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

/** Where a page request of this browser ends up: 200 when the session is logged in. */
async function opens(browser: BrowserSession, path: string) {
  const page = await browser.page(path)
  return page.status === 200 ? 'page' : `${page.status} ${page.location}`
}

test.group('Web sessions', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a cookie copied before logout no longer opens /app afterwards', async ({ assert }) => {
    const user = await makeUser('member')
    const browser = await new BrowserSession().logIn(user)
    const stolen = browser.copy()
    assert.equal(await opens(stolen, '/app'), 'page')

    const logout = await browser.post('/logout')
    assert.equal(logout.headers.get('location'), '/login')
    assert.equal(await opens(stolen, '/app'), '302 /login')
    assert.equal(await opens(stolen, '/account/security'), '302 /login')
  })

  test('a password change ends every other session; the changing browser continues', async ({
    assert,
  }) => {
    const user = await makeUser('member')
    const browser = await new BrowserSession().logIn(user)
    const stolen = browser.copy()
    const elsewhere = await new BrowserSession().logIn(user)

    await browser.page('/account/security')
    const change = await browser.post('/account/password', {
      current_password: TEST_PASSWORD,
      password: 'Another-Horse-43!',
      password_confirmation: 'Another-Horse-43!',
    })
    assert.equal(change.headers.get('location'), '/account/security')
    assert.equal(await opens(stolen, '/app'), '302 /login', 'the copied cookie')
    assert.equal(await opens(elsewhere, '/app'), '302 /login', 'another device')
    assert.equal(await opens(browser, '/app'), 'page', 'the browser that changed it')
    const reasons = await db
      .from('web_sessions')
      .where('user_id', user.id)
      .whereNotNull('ended_at')
      .select('end_reason')
    assert.deepEqual([...new Set(reasons.map((row) => row.end_reason))], ['password_changed'])
  })

  test('the security page lists the sessions with device, IP and this device; one is revoked from another', async ({
    assert,
  }) => {
    const user = await makeUser('owner')
    const firefox = await new BrowserSession(FIREFOX_WINDOWS).logIn(user)
    const chrome = await new BrowserSession(CHROME_LINUX).logIn(user)
    const stolen = chrome.copy('curl/8.0')

    const page = await firefox.page('/account/security')
    assert.include(page.html, 'Angemeldete Geräte')
    const rows = [
      ...page.html.matchAll(/<tr data-session-id="(\d+)"(\s+data-current)?\s*>([\s\S]*?)<\/tr>/g),
    ].map((match) => ({
      id: Number(match[1]),
      current: Boolean(match[2]),
      text: match[3]
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    }))
    assert.lengthOf(rows, 2)
    const mine = rows.find((row) => row.current)!
    const other = rows.find((row) => !row.current)!
    assert.match(
      mine.text,
      /^Firefox auf Windows \(dieses Gerät\) (127\.0\.0\.1|::1|::ffff:127\.0\.0\.1) \d{4}-\d\d-\d\d \d\d:\d\d/
    )
    assert.match(other.text, /^Chrome auf Linux /)
    assert.include(other.text, 'Sitzung beenden')
    assert.notInclude(mine.text, 'Sitzung beenden')

    const own = await firefox.post(`/account/sessions/${mine.id}`, {}, 'DELETE')
    assert.equal(own.headers.get('location'), '/account/security')
    assert.equal(
      await opens(firefox, '/app'),
      'page',
      'the current session is not revoked from its own list'
    )

    await firefox.page('/account/security')
    const revoke = await firefox.post(`/account/sessions/${other.id}`, {}, 'DELETE')
    assert.equal(revoke.headers.get('location'), '/account/security')
    assert.equal(await opens(chrome, '/app'), '302 /login')
    assert.equal(await opens(stolen, '/app'), '302 /login')
    assert.equal(await opens(firefox, '/app'), 'page')
    const row = await db.from('web_sessions').where('id', other.id).first()
    assert.equal(row.end_reason, 'revoked')
  })

  test('English page: device in words and "this device"', async ({ assert }) => {
    const user = await makeUser('member')
    const browser = await new BrowserSession(CHROME_LINUX).logIn(user)
    await browser.request('/locale/en')
    const { html } = await browser.page('/account/security')
    assert.include(html, 'Signed-in devices')
    assert.include(html, 'Chrome on Linux')
    assert.include(html, '(this device)')
  })

  test('"end all other sessions" keeps only this browser; another user\'s session is not touched', async ({
    assert,
  }) => {
    const user = await makeUser('member')
    const neighbour = await makeUser('member')
    const browser = await new BrowserSession().logIn(user)
    const others = [await new BrowserSession().logIn(user), await new BrowserSession().logIn(user)]
    const theirs = await new BrowserSession().logIn(neighbour)

    await browser.page('/account/security')
    const response = await browser.post('/account/sessions', {}, 'DELETE')
    assert.equal(response.headers.get('location'), '/account/security')
    for (const other of others) assert.equal(await opens(other, '/app'), '302 /login')
    assert.equal(await opens(browser, '/app'), 'page')
    assert.equal(await opens(theirs, '/app'), 'page')
    const live = await db
      .from('web_sessions')
      .where('user_id', user.id)
      .whereNull('ended_at')
      .count('* as total')
    assert.equal(Number(live[0].total), 1)
  })

  test('another user cannot revoke my session by its number', async ({ assert }) => {
    const user = await makeUser('member')
    const attacker = await makeUser('member')
    const victim = await new BrowserSession().logIn(user)
    const row = await db
      .from('web_sessions')
      .where('user_id', user.id)
      .whereNull('ended_at')
      .firstOrFail()
    const theirs = await new BrowserSession().logIn(attacker)
    await theirs.page('/account/security')
    await theirs.post(`/account/sessions/${row.id}`, {}, 'DELETE')
    assert.equal(await opens(victim, '/app'), 'page')
  })

  test('the web phone login issued to a session dies with it; the other session keeps its own', async ({
    assert,
  }) => {
    const user = await makeUser('member')
    const revoking = await new BrowserSession().logIn(user)
    const revoked = await new BrowserSession(CHROME_LINUX).logIn(user)
    const kept = await revoking.webPhoneLogin()
    const lost = await revoked.webPhoneLogin()
    const credentials = new WebPhoneCredentialService()
    assert.exists(await credentials.findByUsername(lost.username))

    const row = await db
      .from('web_sessions')
      .where('user_id', user.id)
      .where('user_agent', CHROME_LINUX)
      .firstOrFail()
    await revoking.page('/account/security')
    await revoking.post(`/account/sessions/${row.id}`, {}, 'DELETE')
    assert.notExists(
      await credentials.findByUsername(lost.username),
      "the revoked session's SIP login"
    )
    assert.exists(
      await credentials.findByUsername(kept.username),
      "the revoking session's SIP login"
    )
    const refreshed = await revoked.credential()
    assert.notEqual(refreshed.status, 200, 'the revoked browser cannot fetch a new one')
    assert.lengthOf(await db.from('web_phone_credentials').where('user_id', user.id), 2)
  })

  test('a web phone login is bound to its session row: a session ended elsewhere (no event here) refuses it too', async ({
    assert,
  }) => {
    const user = await makeUser('member')
    const browser = await new BrowserSession().logIn(user)
    const login = await browser.webPhoneLogin()
    const row = await db
      .from('web_sessions')
      .where('user_id', user.id)
      .whereNull('ended_at')
      .firstOrFail()
    const credential = await db
      .from('web_phone_credentials')
      .where('sip_username', login.username)
      .firstOrFail()
    assert.equal(credential.web_session_id, row.id)
    const credentials = new WebPhoneCredentialService()
    assert.exists(await credentials.findByUsername(login.username))

    // As another node would leave it: the session row ended, this process told nothing.
    await db
      .from('web_sessions')
      .where('id', row.id)
      .update({ ended_at: db.raw('created_at'), end_reason: 'revoked' })
    assert.notExists(await credentials.findByUsername(login.username))
  })

  test('turning 2FA on and off each end every other session; the browser that did it continues', async ({
    assert,
  }) => {
    const user = await makeUser('member')
    const browser = await new BrowserSession().logIn(user)
    const elsewhere = await new BrowserSession().logIn(user)
    const copied = browser.copy()

    const setup = await browser.page('/account/2fa')
    const secret = /id="totp-secret">([A-Z2-7]+)</.exec(setup.html)?.[1]
    assert.isString(secret)
    const enable = await browser.post('/account/2fa', { code: await generate({ secret: secret! }) })
    assert.equal(enable.status, 200, 'the recovery codes page')
    assert.equal(
      await opens(elsewhere, '/app'),
      '302 /login',
      'another device, after 2FA was turned on'
    )
    assert.equal(await opens(copied, '/app'), '302 /login', "a copy of this browser's cookie")
    assert.equal(await opens(browser, '/app'), 'page')

    // A TOTP step counts once; the next login of this test comes within the same 30 s.
    await db.from('users').where('id', user.id).update({ totp_last_step: null })
    const second = await new BrowserSession().logIn(user, { totpSecret: secret })
    await browser.page('/account/2fa')
    const disable = await browser.post(
      '/account/2fa',
      { current_password: TEST_PASSWORD },
      'DELETE'
    )
    assert.equal(disable.headers.get('location'), '/account/security')
    assert.equal(
      await opens(second, '/app'),
      '302 /login',
      'another device, after 2FA was turned off'
    )
    assert.equal(await opens(browser, '/app'), 'page')
    const reasons = await db
      .from('web_sessions')
      .where('user_id', user.id)
      .whereNotNull('ended_at')
      .select('end_reason')
    assert.deepEqual([...new Set(reasons.map((row) => row.end_reason))], ['two_factor_changed'])
  })

  test('the session id changes at login and again after the second factor (no fixation)', async ({
    assert,
  }) => {
    const user = await makeUser('member')
    const secret = await enableTwoFactor(user)
    const browser = new BrowserSession()
    await browser.page('/login')
    const planted = browser.copy()
    const form = await browser.page('/login')
    assert.equal(form.status, 200)
    const password = await browser.post('/login', { email: user.email, password: TEST_PASSWORD })
    assert.equal(password.headers.get('location'), '/login/2fa')
    const pending = browser.copy()
    await browser.page('/login/2fa')
    const verified = await browser.post('/login/2fa', { code: await generate({ secret }) })
    assert.equal(verified.headers.get('location'), '/app')
    assert.equal(await opens(browser, '/app'), 'page')

    assert.notEqual(browser.cookie(SESSION_COOKIE), planted.cookie(SESSION_COOKIE))
    assert.notEqual(browser.cookie(SESSION_COOKIE), pending.cookie(SESSION_COOKIE))
    assert.equal(await opens(planted, '/app'), '302 /login', 'the id a visitor had before login')
    assert.equal(
      await opens(pending, '/app'),
      '302 /login',
      'the id between password and second factor'
    )
  })

  test("staff: the admin area's security page lists the sessions; revoking one ends it", async ({
    assert,
  }) => {
    const admin = await makeUser('superadmin')
    const secret = await enableTwoFactor(admin)
    const laptop = await new BrowserSession(FIREFOX_WINDOWS).logIn(admin, { totpSecret: secret })
    // A TOTP step counts once; the second browser of this test logs in within the same 30 s.
    await db.from('users').where('id', admin.id).update({ totp_last_step: null })
    const desktop = await new BrowserSession(CHROME_LINUX).logIn(admin, { totpSecret: secret })
    assert.equal(await opens(desktop, '/admin'), 'page')

    const page = await laptop.page('/account/security')
    assert.include(page.html, 'Firefox auf Windows')
    assert.include(page.html, 'Chrome auf Linux')
    const other = await db
      .from('web_sessions')
      .where('user_id', admin.id)
      .where('user_agent', CHROME_LINUX)
      .firstOrFail()
    await laptop.post(`/account/sessions/${other.id}`, {}, 'DELETE')
    assert.equal(await opens(desktop, '/admin'), '302 /login')
    assert.equal(await opens(laptop, '/admin'), 'page')
  })

  test("a disabled user's open session ends with its next request", async ({ assert }) => {
    const user = await makeUser('member')
    const browser = await new BrowserSession().logIn(user)
    user.disabledAt = DateTime.utc()
    await user.save()
    assert.equal(await opens(browser, '/app'), '302 /login')
    const row = await db.from('web_sessions').where('user_id', user.id).firstOrFail()
    assert.equal(row.end_reason, 'user_disabled')
  })

  test("a removed user's open session ends, its register entries go with the account", async ({
    assert,
  }) => {
    const user = await makeUser('member')
    const browser = await new BrowserSession().logIn(user)
    const stolen = browser.copy()
    await user.delete()
    assert.lengthOf(await db.from('web_sessions').where('user_id', user.id), 0)
    assert.equal(await opens(browser, '/app'), '302 /login')
    assert.equal(await opens(stolen, '/account/security'), '302 /login')
  })
})

test.group('Web sessions: a terminated company', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('termination ends the open sessions of every user of the company at once', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    const member = await makeUser('member', company)
    const outsider = await new BrowserSession().logIn(await makeUser('member'))
    const browsers = [
      await new BrowserSession().logIn(owner),
      await new BrowserSession().logIn(member),
    ]
    const staff = await makeUser('superadmin')

    await new CompanyService().changeStatus(company, 'terminated', staff, '192.0.2.1')
    const rows = await db
      .from('web_sessions')
      .whereIn('user_id', [owner.id, member.id])
      .select('ended_at', 'end_reason')
    assert.lengthOf(rows, 2)
    for (const row of rows) {
      assert.isNotNull(row.ended_at)
      assert.equal(row.end_reason, 'company_terminated')
    }
    for (const browser of browsers) assert.equal(await opens(browser, '/app'), '302 /login')
    assert.equal(await opens(outsider, '/app'), 'page')
  })

  test('every request checks the company: team, audit, invitations, SIP devices and web phone logins are refused', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    // An admin: the owners of a terminated company keep read access to invoices and the export
    // (privacy/account_termination.spec.ts); everyone else is out.
    const owner = await makeUser('admin', company)
    /** A browser logged in while the company was active, then the company terminated behind the application's back (no event). */
    const openedBeforeTermination = async () => {
      company.status = 'active'
      await company.save()
      const browser = await new BrowserSession().logIn(owner)
      await browser.page('/app/team')
      company.status = 'terminated'
      await company.save()
      return browser
    }

    assert.equal(await opens(await openedBeforeTermination(), '/app/team'), '302 /login')
    assert.equal(await opens(await openedBeforeTermination(), '/app/audit'), '302 /login')
    const invite = await (
      await openedBeforeTermination()
    ).post('/app/team/invitations', { email: 'colleague@example.test', role: 'member' })
    assert.equal(invite.headers.get('location'), '/login')
    const device = await (
      await openedBeforeTermination()
    ).post('/app/devices', { label: 'Desk phone' })
    assert.equal(device.headers.get('location'), '/login')
    const credential = await (await openedBeforeTermination()).credential()
    assert.equal(credential.status, 401)

    assert.lengthOf(await db.from('invitations').where('company_id', company.id), 0)
    assert.lengthOf(await db.from('sip_devices').where('company_id', company.id), 0)
    assert.lengthOf(await db.from('web_phone_credentials').where('company_id', company.id), 0)
    const reasons = await db.from('web_sessions').where('user_id', owner.id).select('end_reason')
    assert.deepEqual([...new Set(reasons.map((row) => row.end_reason))], ['company_terminated'])
  })
})
