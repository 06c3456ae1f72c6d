import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import WS from 'ws'
import { Registerer, RegistererState, UserAgent } from 'sip.js'
import SipDeviceService from '#calls/services/sip_device_service'
import WebPhoneCredentialService from '#calls/services/web_phone_credential_service'
import AuthFailureLimiter from '#sip/registrar/auth_failure_limiter'
import { configuredRealm, registrarSettings } from '#calls/signalling/registrar_settings'
import { makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { startSipp } from '#tests/support/sip_peers'
import {
  localPort,
  removeBindings,
  sipStack,
  sleep,
  userWithDevice,
  within,
} from '#tests/support/sip_test_stack'
import { userSubject } from '#calls/signalling/sip_subject'

/**
 * SIP authentication hardening on the wire: sipp as SIP phones over UDP (an office behind one
 * address, a guesser, a stolen web phone login) and sip.js over the WebSocket (the web phone).
 */

async function limiter() {
  return new AuthFailureLimiter(await app.container.make('counters'), registrarSettings().lockout)
}

/** sipp as a phone registering over UDP from `localIp`; `refused` expects a second 401 instead of the 200. */
async function sippRegister(
  stack: Awaited<ReturnType<typeof sipStack>>,
  who: { username: string; password: string },
  localIp: string,
  options: { refused?: boolean; calls?: number } = {}
) {
  const phone = await startSipp({
    scenario: options.refused ? 'uac_register_refused.xml' : 'uac_register.xml',
    transport: 'u1',
    target: `127.0.0.1:${localPort(stack, 'udp')}`,
    localIp,
    calls: options.calls,
    keys: { domain: configuredRealm() },
    extraArgs: [
      '-s',
      who.username,
      '-au',
      who.username,
      '-ap',
      who.password,
      ...(options.calls ? ['-l', '1'] : []),
    ],
    timeoutSeconds: 20,
  })
  const outcome = await phone.done
  return { code: outcome.code, describe: phone.describe(outcome) }
}

/** Waits until the registrar noted the address of a 200 (it does not wait for that before answering). */
async function knownAddress(username: string, address: string) {
  for (let tries = 0; tries < 100; tries++) {
    const known = (await new SipDeviceService().findByUsername(username))?.knownAddresses ?? []
    if (known.includes(address)) return
    await sleep(20)
  }
  throw new Error(`${address} was not noted as a known address of ${username}`)
}

test.group('SIP authentication: locks and the phones behind one office address', () => {
  test('a phone that registered from the office before passes a source lock there with the right password; a phone new to the office waits; the lock is audited once', async ({
    assert,
    cleanup,
  }) => {
    const stack = await sipStack()
    const office = '127.0.0.9'
    const { lockout } = registrarSettings()
    const deskPhone = await userWithDevice()
    const misconfigured = await userWithDevice()
    const newcomer = await userWithDevice()
    cleanup(async () => {
      await (await limiter()).lift('source', office)
      for (const who of [deskPhone, newcomer]) {
        await removeBindings(
          stack,
          await stack.registrar.registrar.lookupSubject(userSubject(who.user.id))
        )
      }
    })

    const first = await sippRegister(stack, deskPhone, office)
    assert.equal(first.code, 0, first.describe)
    await knownAddress(deskPhone.username, office)
    const mark = await auditMark()

    // One phone in the office with an old password retries until the office address is locked.
    const wrong = { username: misconfigured.username, password: `${misconfigured.password}-old` }
    const guessing = await sippRegister(stack, wrong, office, {
      refused: true,
      calls: lockout.sourceMaxFailures,
    })
    assert.equal(guessing.code, 0, guessing.describe)
    const locks = await auditSince(mark).where('action', 'sip.auth.locked').orderBy('id')
    assert.sameMembers(
      locks.map((entry) => entry.details?.scope),
      ['username', 'source']
    )
    assert.isTrue(await (await limiter()).isScopeLocked('source', office))
    const afterLock = await auditMark()

    const again = await sippRegister(stack, deskPhone, office)
    assert.equal(again.code, 0, `the desk phone registers again from its office: ${again.describe}`)
    assert.lengthOf(await auditSince(afterLock), 0, 'passing the lock is no event')

    const waiting = await sippRegister(stack, newcomer, office, { refused: true })
    assert.equal(
      waiting.code,
      0,
      `a phone new to the office is refused during the lock: ${waiting.describe}`
    )
    assert.lengthOf(await stack.registrar.registrar.lookupSubject(userSubject(newcomer.user.id)), 0)
    assert.deepEqual(
      (await auditSince(afterLock).orderBy('id')).map((entry) => [
        entry.action,
        entry.details?.reason,
        entry.ip,
      ]),
      [['sip.auth.failed', 'locked', office]]
    )
  }).timeout(60_000)
})

test.group('SIP authentication: the web phone login is for the WebSocket only', () => {
  test('sipp with a web phone login over UDP is refused like a wrong password and audited once; sip.js registers with it over the WebSocket', async ({
    assert,
    cleanup,
  }) => {
    const stack = await sipStack()
    const deadline = Date.now() + 5000
    while (!stack.layer.webSocket?.attached && Date.now() < deadline) await sleep(20)
    const user = await makeUser('member')
    const login = await new WebPhoneCredentialService().issue(user, {
      sessionId: `e2e-${user.id}`,
      ip: '127.0.0.1',
    })
    const mark = await auditMark()

    const stolen = await sippRegister(stack, login, '127.0.0.10', { refused: true })
    assert.equal(stolen.code, 0, stolen.describe)
    assert.lengthOf(await stack.registrar.registrar.lookupSubject(userSubject(user.id)), 0)
    const entries = await auditSince(mark).orderBy('id')
    assert.deepEqual(
      entries.map((entry) => [
        entry.action,
        entry.details?.reason,
        entry.details?.transport,
        entry.ip,
        entry.targetType,
      ]),
      [['sip.auth.failed', 'transport_not_allowed', 'udp', '127.0.0.10', 'web_phone_credential']]
    )

    // The browser's way: sip.js over our WebSocket, with the Origin of our page.
    const original = globalThis.WebSocket
    const sockets: WS[] = []
    const origin = new URL(env.get('APP_URL')).origin
    globalThis.WebSocket = class extends WS {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, { origin })
        sockets.push(this)
      }
    } as never
    const userAgent = new UserAgent({
      uri: UserAgent.makeURI(login.aor),
      transportOptions: { server: `ws://127.0.0.1:${env.get('PORT')}${login.wsPath}` },
      authorizationUsername: login.username,
      authorizationPassword: login.password,
      reconnectionAttempts: 0,
      logLevel: 'error',
    })
    cleanup(async () => {
      globalThis.WebSocket = original
      for (const socket of sockets) socket.terminate()
      await removeBindings(
        stack,
        await stack.registrar.registrar.lookupSubject(userSubject(user.id))
      )
    })
    await within(userAgent.start(), 5000, 'WebSocket connect')
    const registerer = new Registerer(userAgent, { expires: 300 })
    await within(
      new Promise<void>((resolve, reject) => {
        registerer
          .register({
            requestDelegate: {
              onAccept: () => resolve(),
              onReject: (response) =>
                reject(new Error(`REGISTER refused: ${response.message.statusCode}`)),
            },
          })
          .catch(reject)
      }),
      5000,
      'sip.js registered'
    )
    assert.equal(registerer.state, RegistererState.Registered)
    const [binding] = await stack.registrar.registrar.lookupSubject(userSubject(user.id))
    assert.equal(binding?.source.protocol, 'ws')
    assert.lengthOf(await auditSince(mark), 1, 'still only the one refusal')
  }).timeout(30_000)
})
