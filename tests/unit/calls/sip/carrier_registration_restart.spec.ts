import { test } from '@japa/runner'
import SipCarrierSignalling from '#calls/carriers/sip_carrier_signalling'
import CarrierHealthMonitor from '#calls/carriers/carrier_health_monitor'
import type { RegistrationAuth, SignallingTarget } from '#calls/carriers/types'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import type IncomingRequest from '#sip/ua/incoming_request'
import { DigestAlgorithm, computeHa1, createChallenge, verifyCredentials } from '#sip/auth/digest'
import { BOB_HOST, createPhonePair, run } from '#tests/unit/calls/sip/support/phone_pair'
import { euCarrierProfile } from '#tests/support/carriers'

/**
 * A carrier monitor restarted (new credentials, lifecycle change) while the old one's REGISTER
 * was still being set up: the old registration must end, and nothing the old one does late may
 * remove the new registration of the same target (same AOR and Contact at the carrier).
 */

const REALM = 'carrier.example'
const AUTH: RegistrationAuth = {
  method: 'registration',
  username: 'trunk7',
  password: 's3cret',
  realm: REALM,
  expiresSeconds: 600,
}
const TARGET: SignallingTarget = { host: BOB_HOST, port: 5060, transport: 'udp' }

interface RegisterSeen {
  callId: string
  expires: number
  authorized: boolean
}

/**
 * Bob as the carrier's registrar: digest, then one binding per Contact URI, whoever's Call-ID
 * (RFC 3261 10.3: an Expires: 0 for the Contact removes it).
 */
function carrier() {
  const pair = createPhonePair()
  const bindings = new Map<string, string>()
  const seen: RegisterSeen[] = []
  const challenge = createChallenge({
    realm: REALM,
    nonce: 'reg-nonce',
    algorithm: DigestAlgorithm.Md5,
  })
  pair.bob.setHandler('REGISTER', (incoming: IncomingRequest) => {
    const request = incoming.request
    const credentials = request.authorization[0]
    const authorized =
      credentials !== undefined &&
      verifyCredentials(credentials, {
        ha1: computeHa1(DigestAlgorithm.Md5, AUTH.username, REALM, AUTH.password),
        algorithm: DigestAlgorithm.Md5,
        realm: REALM,
        method: 'REGISTER',
      })
    const expires = request.expires ?? 3600
    seen.push({ callId: request.callId, expires, authorized })
    if (!authorized) {
      incoming.respond(401, { headers: [['WWW-Authenticate', challenge.toString()]] })
      return
    }
    const contact = request.contacts[0]
    if (expires === 0) {
      bindings.delete(contact.uri.toString())
      incoming.respond(200)
      return
    }
    bindings.set(contact.uri.toString(), request.callId)
    incoming.respond(200, {
      headers: [['Contact', contact.withParam('expires', String(expires)).toString()]],
    })
  })

  // DNS that answers only when the test says so: the window in which a restart races.
  const lookups: Array<() => void> = []
  const signalling = new SipCarrierSignalling({
    core: pair.alice,
    clock: pair.clock,
    resolve: (target) =>
      new Promise<SipDestination[]>((resolve) =>
        lookups.push(() => resolve([{ protocol: 'udp', host: target.host, port: target.port }]))
      ),
  })

  /** Answers the pending lookups one at a time, letting virtual time pass after each. */
  async function settle(ms = 2000) {
    for (let elapsed = 0; elapsed < ms; elapsed += 50) {
      lookups.shift()?.()
      await run(pair.clock, 50)
    }
  }

  /** Call-IDs that registered (Expires > 0, authorized) in the next `ms` of virtual time. */
  async function refreshersDuring(ms: number) {
    const from = seen.length
    for (let elapsed = 0; elapsed < ms; elapsed += 1000) await run(pair.clock, 1000)
    return new Set(
      seen
        .slice(from)
        .filter((entry) => entry.authorized && entry.expires > 0)
        .map((entry) => entry.callId)
    )
  }

  return { ...pair, bindings, seen, signalling, settle, refreshersDuring }
}

test.group('Carrier registration restarted while the old one is being set up', () => {
  test('unregister while register is still resolving ends that registration; the next register keeps its binding', async ({
    assert,
  }) => {
    const { bindings, signalling, settle, refreshersDuring } = carrier()
    const first = signalling.register(TARGET, AUTH)
    const firstEnded = signalling.unregister(TARGET)
    const second = signalling.register(TARGET, AUTH)
    await settle()

    assert.deepEqual(await first, { status: 0, expiresSeconds: 0 }, 'ended before its first answer')
    await firstEnded
    assert.deepEqual(await second, { status: 200, expiresSeconds: 600 })
    assert.equal(signalling.registrationCount, 1)
    assert.equal(bindings.size, 1, 'the carrier holds the binding')

    // 600 s granted, refreshed at half: over 20 minutes exactly one Call-ID keeps refreshing.
    const refreshers = await refreshersDuring(20 * 60 * 1000)
    assert.equal(refreshers.size, 1, 'no forgotten client keeps registering')
    assert.equal(bindings.size, 1)

    const closed = signalling.close()
    await settle()
    await closed
    assert.equal(bindings.size, 0, 'close removes the binding')
  })

  test("a restarted monitor's registration survives the old monitor's late first answer", async ({
    assert,
  }) => {
    const { clock, bindings, seen, signalling, settle, refreshersDuring } = carrier()
    const profile = euCarrierProfile({
      hosts: [BOB_HOST],
      port: 5060,
      transport: 'udp',
      auth: AUTH,
      healthCheck: { enabled: false, intervalSeconds: 30, timeoutMs: 2000, failuresBeforeDown: 3 },
    })
    const old = new CarrierHealthMonitor({ profile, signalling, clock })
    const fresh = new CarrierHealthMonitor({ profile, signalling, clock })
    old.start()
    // What CarrierHealthService does on a restart: stop the old monitor, then start the new one.
    const restarted = old.stop().then(() => fresh.start())
    await settle()
    await restarted

    assert.equal(fresh.health().registration, 'registered')
    assert.equal(bindings.size, 1, 'the new registration is at the carrier')
    const lastRemoval = seen.findLastIndex((entry) => entry.authorized && entry.expires === 0)
    const lastRegister = seen.findLastIndex((entry) => entry.authorized && entry.expires > 0)
    assert.isBelow(lastRemoval, lastRegister, 'no Expires: 0 went out after the new REGISTER')

    const refreshers = await refreshersDuring(20 * 60 * 1000)
    assert.equal(refreshers.size, 1, 'only the new monitor keeps registering')
    assert.equal(bindings.size, 1)
    assert.equal(fresh.health().registration, 'registered')

    const stopped = fresh.stop()
    await settle()
    await stopped
    assert.equal(bindings.size, 0)
  })
})
