import { randomInt } from 'node:crypto'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import encryption from '@adonisjs/core/services/encryption'
import { DateTime } from 'luxon'
import WS from 'ws'
import { Registerer, RegistererState, UserAgent } from 'sip.js'
import env from '#start/env'
import Permission from '#accounts/models/permission'
import Role from '#accounts/models/role'
import type Company from '#accounts/models/company'
import CompanyService from '#accounts/services/company_service'
import PhoneNumber from '#calls/models/phone_number'
import WebPhoneCredential from '#calls/models/web_phone_credential'
import SipDeviceService from '#calls/services/sip_device_service'
import AuthFailureLimiter from '#sip/registrar/auth_failure_limiter'
import { registrarSettings } from '#calls/signalling/registrar_settings'
import WebPhoneCredentialService, {
  type WebPhoneLogin,
} from '#calls/services/web_phone_credential_service'
import { DigestAlgorithm, computeHa1 } from '#sip/auth/digest'
import type SipStack from '#sip/sip_stack'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import { makeCompany, makeUser, TEST_PASSWORD } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { BrowserSession } from '#tests/support/browser_session'
import { registerWithPassword } from '#tests/unit/calls/sip/registrar/registrar_fixtures'
import { sipSubjectParts, userSubject } from '#calls/signalling/sip_subject'

/**
 * The web phone's SIP login: POST /app/phone/credential, what the digest server accepts, and its
 * revocation (with the WebSocket closed) when the session or the account ends. Requests that must
 * share one session (log in, fetch a login, log out) go through BrowserSession (tests/support).
 */

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** A random source per test: failure counters may live in Redis, which outlives the run. */
function freshSource(protocol: SipDestination['protocol'] = 'udp'): SipDestination {
  return {
    protocol,
    host: `198.18.${randomInt(256)}.${randomInt(1, 255)}`,
    port: 5062,
    ...(protocol === 'ws' ? { connectionId: `test-ws-${randomInt(1e9)}` } : {}),
  }
}

async function sipStack(): Promise<SipStack> {
  const stack = await app.container.make('sip.stack')
  if (!stack.layer.started) throw new Error('the SIP provider did not start the stack')
  return stack
}

/** A web phone as sip.js runs it in the browser: registered over our WebSocket. */
interface RegisteredPhone {
  userAgent: UserAgent
  socket: WS
  /** Resolves when the server closes the WebSocket. */
  closed: Promise<void>
}

async function registerOverWebSocket(login: WebPhoneLogin, opened: WS[]): Promise<RegisteredPhone> {
  const origin = new URL(env.get('APP_URL')).origin
  const sockets: WS[] = []
  const original = globalThis.WebSocket
  // sip.js opens `new WebSocket(url, 'sip')`; ws lets us send the Origin a browser on our page sends.
  globalThis.WebSocket = class extends WS {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { origin })
      sockets.push(this)
      opened.push(this)
    }
  } as never
  try {
    const userAgent = new UserAgent({
      uri: UserAgent.makeURI(login.aor),
      transportOptions: { server: `ws://127.0.0.1:${env.get('PORT')}${login.wsPath}` },
      authorizationUsername: login.username,
      authorizationPassword: login.password,
      reconnectionAttempts: 0,
      logLevel: 'error',
    })
    await within(userAgent.start(), 5000, 'WebSocket connect')
    const socket = sockets[0]
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    const registerer = new Registerer(userAgent, { expires: 300 })
    const registered = new Promise<void>((resolve, reject) => {
      registerer
        .register({
          requestDelegate: {
            onAccept: () => resolve(),
            onReject: (response) =>
              reject(new Error(`REGISTER refused: ${response.message.statusCode}`)),
          },
        })
        .catch(reject)
    })
    await within(registered, 5000, 'registered')
    if (registerer.state !== RegistererState.Registered) throw new Error('not registered')
    return { userAgent, socket, closed }
  } finally {
    globalThis.WebSocket = original
  }
}

function isOpen(socket: WS) {
  return socket.readyState === WS.OPEN
}

async function revokeGrant(roleName: string, permissionName: string) {
  const role = await Role.findByOrFail('name', roleName)
  const permission = await Permission.findByOrFail('name', permissionName)
  await db
    .from('role_permissions')
    .where({ role_id: role.id, permission_id: permission.id })
    .delete()
}

let mark = 0
/** Users whose registrations a test made: the bindings live in the stack, outside the transaction. */
const registeredUsers = new Set<number>()

/** A company member whose registrations are forgotten after the test. */
async function member(company?: Company) {
  const user = await makeUser('member', company)
  registeredUsers.add(user.id)
  return user
}

async function forgetRegistrations() {
  const stack = await sipStack()
  for (const userId of registeredUsers) {
    for (const binding of await stack.registrar.registrar.lookupSubject(userSubject(userId)))
      await stack.registrar.bindings.remove(binding)
  }
  registeredUsers.clear()
}

test.group('Web phone login: POST /app/phone/credential', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    mark = await auditMark()
  })
  group.each.teardown(() => forgetRegistrations())

  test('a member gets a 12-hour SIP login; the password is returned once and only encrypted HA1s are stored', async ({
    assert,
  }) => {
    const user = await member()
    const session = await new BrowserSession().logIn(user)
    const response = await session.credential()
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    const login = (await response.json()) as WebPhoneLogin

    assert.match(login.username, /^wp[a-z2-9]{16}$/)
    assert.isAtLeast(login.password.length, 32)
    assert.equal(login.aor, `sip:${login.username}@${login.realm}`)
    assert.equal(login.wsPath, '/sip')
    assert.equal(login.echoNumber, '*43')
    assert.equal(login.displayName, user.fullName)
    assert.isFalse(login.emergencyOnly)
    const hoursLeft = DateTime.fromISO(login.expiresAt).diffNow('hours').hours
    assert.closeTo(hoursLeft, 12, 0.05)

    const row = await db
      .from('web_phone_credentials')
      .where('sip_username', login.username)
      .firstOrFail()
    assert.equal(row.user_id, user.id)
    assert.equal(row.company_id, user.companyId)
    const md5 = computeHa1(DigestAlgorithm.Md5, login.username, login.realm, login.password)
    const sha256 = computeHa1(DigestAlgorithm.Sha256, login.username, login.realm, login.password)
    const stored = JSON.stringify(row)
    for (const secret of [login.password, md5, sha256]) assert.notInclude(stored, secret)
    assert.equal(encryption.decrypt(row.ha1_md5, 'sip-ha1'), md5)
    assert.equal(encryption.decrypt(row.ha1_sha256, 'sip-ha1'), sha256)
    assert.match(row.session_digest, /^[0-9a-f]{64}$/)

    // Fetched on every visit of the phone page: no security event, nothing in the audit log.
    assert.deepEqual(
      (await auditSince(mark).orderBy('id')).map((entry) => entry.action),
      ['auth.login.succeeded'],
      'the login only'
    )
    assert.equal(row.issued_address, '127.0.0.1', 'the address it was issued to')
  })

  test('caller IDs are the user’s own and the company’s shared numbers (own first); CLIR default and a suspended company are passed on', async ({
    assert,
  }) => {
    const company = await makeCompany()
    const user = await member(company)
    const colleague = await member(company)
    const other = await makeCompany()
    await PhoneNumber.createMany([
      {
        number: '+493012345001',
        carrierName: 'local',
        companyId: company.id,
        userId: colleague.id,
      },
      { number: '+493012345002', carrierName: 'local', companyId: company.id, userId: null },
      { number: '+493012345009', carrierName: 'local', companyId: company.id, userId: user.id },
      { number: '+493012345100', carrierName: 'local', companyId: other.id, userId: null },
    ])
    user.clirDefault = true
    await user.save()

    const session = await new BrowserSession().logIn(user)
    const login = await session.webPhoneLogin()
    assert.deepEqual(
      login.callerIds,
      ['+493012345009', '+493012345002'],
      'not a colleague’s or another company’s number'
    )
    assert.equal(login.defaultCallerId, '+493012345009')
    assert.isTrue(login.clirDefault)

    company.status = 'suspended'
    await company.save()
    const suspended = await session.webPhoneLogin()
    assert.isTrue(suspended.emergencyOnly, 'a suspended company still phones 110/112')
  })

  test('the endpoint needs the web session, the CSRF token and calls.place', async ({
    client,
    assert,
  }) => {
    const user = await member()
    const before = await WebPhoneCredential.query().count('* as total')

    const anonymous = await client
      .post('/app/phone/credential')
      .header('accept', 'application/json')
      .withCsrfToken()
    anonymous.assertStatus(401)

    const withoutCsrf = await client
      .post('/app/phone/credential')
      .header('accept', 'application/json')
      .loginAs(user)
      .redirects(0)
    withoutCsrf.assertStatus(302)

    const staff = await makeUser('support')
    const staffResponse = await client
      .post('/app/phone/credential')
      .withCsrfToken()
      .loginAs(staff)
      .redirects(0)
    staffResponse.assertStatus(302)

    await revokeGrant('member', 'calls.place')
    const forbidden = await client
      .post('/app/phone/credential')
      .header('accept', 'application/json')
      .withCsrfToken()
      .loginAs(user)
    forbidden.assertStatus(403)
    const page = await client.get('/app/phone').loginAs(user)
    page.assertStatus(403)

    const after = await WebPhoneCredential.query().count('* as total')
    assert.equal(
      Number(after[0].$extras.total),
      Number(before[0].$extras.total),
      'no login was issued'
    )
  })

  test('a live login registers (binding without deviceId); expired, revoked, disabled-user and terminated-company logins are refused', async ({
    assert,
  }) => {
    const stack = await sipStack()
    const registrar = stack.registrar.registrar
    const service = new WebPhoneCredentialService()
    const company = await makeCompany()
    const user = await member(company)
    let attempt = 0
    const register = async (login: WebPhoneLogin) => {
      attempt += 1
      const options = {
        username: login.username,
        password: login.password,
        source: freshSource('ws'),
        expires: 120,
      }
      return (
        await registerWithPassword(registrar, {
          ...options,
          callId: `web-phone-${attempt}@test`,
          cseq: attempt * 2,
        })
      ).final.status
    }

    const live = await service.issue(user, { sessionId: 'session-a' })
    assert.equal(await register(live), 200)
    const bindings = await registrar.lookup(live.aor)
    assert.lengthOf(bindings, 1)
    const owner = sipSubjectParts(bindings[0].subject)
    assert.equal(owner?.userId, user.id)
    assert.notProperty(owner, 'deviceId', 'a web phone binding names no SIP device')
    const row = await WebPhoneCredential.findByOrFail('sipUsername', live.username)
    // Noted after the 200 went out (the registrar does not wait for it).
    for (let tries = 0; tries < 50 && !row.lastRegisteredAt; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      await row.refresh()
    }
    assert.isNotNull(row.lastRegisteredAt)
    const credential = await new SipDeviceService().findByUsername(live.username)
    assert.equal(credential && sipSubjectParts(credential.subject)?.webPhoneCredentialId, row.id)
    assert.isUndefined(credential && sipSubjectParts(credential.subject)?.deviceId)

    // A login for the browser: over UDP, TCP or TLS the right password is a wrong one, audited once each.
    for (const protocol of ['udp', 'tcp', 'tls'] as const) {
      const source = freshSource(protocol)
      const refused = await registerWithPassword(registrar, {
        username: live.username,
        password: live.password,
        source,
        callId: `web-phone-${protocol}@test`,
      })
      assert.equal(refused.final.status, 401, protocol)
    }
    const refusals = await auditSince(mark).where('action', 'like', 'sip.auth.%').orderBy('id')
    assert.deepEqual(
      refusals.map((entry) => [
        entry.action,
        entry.details?.reason,
        entry.details?.transport,
        entry.targetType,
      ]),
      ['udp', 'tcp', 'tls'].map((protocol) => [
        'sip.auth.failed',
        'transport_not_allowed',
        protocol,
        'web_phone_credential',
      ])
    )

    const expired = await service.issue(user, { sessionId: 'session-b' })
    await WebPhoneCredential.query()
      .where('sip_username', expired.username)
      .update({ expires_at: DateTime.utc().minus({ minutes: 1 }).toSQL({ includeOffset: false }) })
    assert.equal(await register(expired), 401)

    const revoked = await service.issue(user, { sessionId: 'session-c' })
    assert.equal(await service.revokeForSession(user.id, 'session-c'), 1)
    assert.equal(await register(revoked), 401)
    assert.equal(await register(live), 200, 'another session’s login is untouched')

    company.status = 'suspended'
    await company.save()
    assert.equal(await register(live), 200, 'suspended: still registers (110/112 stay possible)')

    user.disabledAt = DateTime.utc()
    await user.save()
    assert.equal(await register(live), 401)
    user.disabledAt = null
    await user.save()

    company.status = 'terminated'
    await company.save()
    assert.equal(await register(live), 401)
    await db.from('web_phone_credentials').where('user_id', user.id).delete()
    for (const binding of await registrar.lookupSubject(userSubject(user.id)))
      await stack.registrar.bindings.remove(binding)
  })

  test('a login passes a source lock on the address it was issued to (the office), not on another locked address', async ({
    assert,
  }) => {
    const stack = await sipStack()
    const registrar = stack.registrar.registrar
    const user = await member()
    const office = freshSource('ws')
    const elsewhere = freshSource('ws')
    const limiter = new AuthFailureLimiter(
      await app.container.make('counters'),
      registrarSettings().lockout
    )
    try {
      for (const source of [office, elsewhere]) {
        for (let attempt = 0; attempt < registrarSettings().lockout.sourceMaxFailures; attempt++) {
          await registerWithPassword(registrar, {
            username: `wpnobody${attempt}`,
            password: 'guess',
            source: { ...source, protocol: 'udp' },
          })
        }
        assert.isTrue(await limiter.isScopeLocked('source', source.host))
      }
      const login = await new WebPhoneCredentialService().issue(user, {
        sessionId: 'office-tab',
        ip: `::ffff:${office.host}`,
      })
      const fromElsewhere = await registerWithPassword(registrar, {
        username: login.username,
        password: login.password,
        source: elsewhere,
        callId: 'elsewhere@test',
      })
      assert.equal(fromElsewhere.final.status, 401)
      const fromOffice = await registerWithPassword(registrar, {
        username: login.username,
        password: login.password,
        source: office,
        callId: 'office@test',
      })
      assert.equal(
        fromOffice.final.status,
        200,
        'the tab in the office registers despite the office lock'
      )
    } finally {
      await limiter.lift('source', office.host)
      await limiter.lift('source', elsewhere.host)
    }
  })

  test('a user who opens many tabs keeps the newest 10 logins', async ({ assert }) => {
    const user = await member()
    const service = new WebPhoneCredentialService()
    const logins: WebPhoneLogin[] = []
    for (let tab = 0; tab < 12; tab++)
      logins.push(await service.issue(user, { sessionId: 'one-session' }))
    const live = await WebPhoneCredential.query()
      .where('user_id', user.id)
      .whereNull('revoked_at')
      .orderBy('id')
    assert.deepEqual(
      live.map((row) => row.sipUsername),
      logins.slice(2).map((login) => login.username)
    )
    const superseded = await auditSince(mark).where('action', 'web_phone.credentials.revoked')
    assert.deepEqual(
      superseded.map((entry) => entry.details?.reason),
      ['superseded', 'superseded']
    )
  })
})

test.group('Web phone login: revoked with its WebSocket closed', (group) => {
  const sockets: WS[] = []
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    mark = await auditMark()
  })
  group.each.teardown(() => forgetRegistrations())
  group.each.teardown(async () => {
    for (const socket of sockets.splice(0)) socket.terminate()
  })

  test('logout revokes the logins of that browser session only and closes their WebSocket', async ({
    assert,
  }) => {
    const stack = await sipStack()
    const user = await member()
    const first = await new BrowserSession().logIn(user)
    const second = await new BrowserSession().logIn(user)
    const firstPhone = await registerOverWebSocket(await first.webPhoneLogin(), sockets)
    const secondLogin = await second.webPhoneLogin()
    const secondPhone = await registerOverWebSocket(secondLogin, sockets)
    assert.lengthOf(await stack.registrar.registrar.lookupSubject(userSubject(user.id)), 2)

    const logout = await first.post('/logout')
    assert.equal(logout.headers.get('location'), '/login')
    await within(firstPhone.closed, 3000, 'the logged-out session’s WebSocket closed')

    const left = await stack.registrar.registrar.lookupSubject(userSubject(user.id))
    assert.deepEqual(
      left.map((binding) => binding.aor),
      [secondLogin.aor],
      'only the other browser stays reachable'
    )
    assert.isTrue(isOpen(secondPhone.socket))
    const revoked = await auditSince(mark)
      .where('action', 'web_phone.credentials.revoked')
      .firstOrFail()
    assert.deepInclude(revoked.details!, { reason: 'logout', count: 1 })

    assert.equal((await first.credential()).status, 401, 'a logged-out browser gets no new login')
    assert.equal((await second.credential()).status, 200)
    await stack.registrar.bindings.remove(left[0])
  })

  test('a password change revokes every login of the user and closes their sockets', async ({
    assert,
  }) => {
    const stack = await sipStack()
    const user = await member()
    const session = await new BrowserSession().logIn(user)
    const phone = await registerOverWebSocket(await session.webPhoneLogin(), sockets)
    const otherLogin = await new WebPhoneCredentialService().issue(user, {
      sessionId: 'another-browser',
    })

    const changed = await session.post('/account/password', {
      current_password: TEST_PASSWORD,
      password: 'Another-Horse-43',
      password_confirmation: 'Another-Horse-43',
    })
    assert.equal(changed.headers.get('location'), '/account/security')
    await within(phone.closed, 3000, 'WebSocket closed after the password change')
    assert.lengthOf(await stack.registrar.registrar.lookupSubject(userSubject(user.id)), 0)
    const live = await WebPhoneCredential.query().where('user_id', user.id).whereNull('revoked_at')
    assert.lengthOf(live, 0)
    assert.isUndefined(await new SipDeviceService().findByUsername(otherLogin.username))
    const revoked = await auditSince(mark)
      .where('action', 'web_phone.credentials.revoked')
      .firstOrFail()
    assert.deepInclude(revoked.details!, { reason: 'password_changed', count: 2 })
  })

  test('suspension revokes the company’s logins but leaves its SIP phones; termination drops every registration', async ({
    assert,
  }) => {
    const stack = await sipStack()
    const registrar = stack.registrar.registrar
    const company = await makeCompany()
    const user = await member(company)
    const staff = await makeUser('superadmin')
    const { device, password } = await new SipDeviceService().create(user, 'Desk phone')
    const deskPhone = await registerWithPassword(registrar, {
      username: device.sipUsername,
      password,
      source: freshSource(),
    })
    assert.equal(deskPhone.final.status, 200)
    const session = await new BrowserSession().logIn(user)
    const phone = await registerOverWebSocket(await session.webPhoneLogin(), sockets)

    await new CompanyService().changeStatus(company, 'suspended', staff, '192.0.2.1')
    await within(phone.closed, 3000, 'WebSocket closed after the suspension')
    const left = await registrar.lookupSubject(userSubject(user.id))
    assert.deepEqual(
      left.map((binding) => sipSubjectParts(binding.subject)?.deviceId),
      [device.id],
      'the desk phone stays registered (110/112)'
    )
    const fresh = await session.webPhoneLogin()
    assert.isTrue(fresh.emergencyOnly)
    const again = await registerOverWebSocket(fresh, sockets)

    await new CompanyService().changeStatus(company, 'terminated', staff, '192.0.2.1')
    await within(again.closed, 3000, 'WebSocket closed after the termination')
    assert.lengthOf(await registrar.lookupSubject(userSubject(user.id)), 0)
    const reasons = (
      await auditSince(mark).where('action', 'web_phone.credentials.revoked').orderBy('id')
    ).map((entry) => entry.details?.reason)
    assert.deepEqual(reasons, ['company_suspended', 'company_terminated'])
  })

  test('a disabled or removed user loses the web phone and every registration', async ({
    assert,
  }) => {
    const stack = await sipStack()
    const registrar = stack.registrar.registrar
    const company = await makeCompany()
    const disabled = await member(company)
    const removed = await member(company)
    const { device, password } = await new SipDeviceService().create(disabled, 'Desk phone')
    assert.equal(
      (
        await registerWithPassword(registrar, {
          username: device.sipUsername,
          password,
          source: freshSource(),
        })
      ).final.status,
      200
    )
    const disabledPhone = await registerOverWebSocket(
      await new WebPhoneCredentialService().issue(disabled, { sessionId: 'd' }),
      sockets
    )
    const removedPhone = await registerOverWebSocket(
      await new WebPhoneCredentialService().issue(removed, { sessionId: 'r' }),
      sockets
    )

    disabled.disabledAt = DateTime.utc()
    await disabled.save()
    const { default: emitter } = await import('@adonisjs/core/services/emitter')
    await emitter.emit('user:disabled', { userId: disabled.id })
    await within(disabledPhone.closed, 3000, 'WebSocket of the disabled user closed')
    assert.lengthOf(
      await registrar.lookupSubject(userSubject(disabled.id)),
      0,
      'the desk phone is evicted too'
    )

    await removed.delete()
    await within(removedPhone.closed, 3000, 'WebSocket of the removed user closed')
    assert.lengthOf(await registrar.lookupSubject(userSubject(removed.id)), 0)
    assert.isUndefined(await new SipDeviceService().findByUsername(device.sipUsername))
  })
})
