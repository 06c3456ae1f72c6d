import { test } from '@japa/runner'
import type SipRequest from '#sip/message/sip_request'
import SipUri from '#sip/message/sip_uri'
import { DigestAlgorithm, computeHa1, createChallenge, verifyCredentials } from '#sip/auth/digest'
import type IncomingRequest from '#sip/ua/incoming_request'
import RegistrationClient from '#sip/ua/registration_client'
import { RegistrationState } from '#sip/ua/registration_state'
import { BOB_HOST, createPhonePair } from '#tests/unit/calls/sip/support/phone_pair'

const REALM = 'carrier.example'
const CREDENTIALS = { username: 'trunk7', password: 's3cret' }

/** Bob as a carrier registrar: digest with one nonce, 60 s bindings, or a chosen failure. */
function carrierRegistrar() {
  const pair = createPhonePair()
  const registrar = { failWith: 0, grant: 60, challenges: 0, seen: [] as SipRequest[] }
  const challenge = createChallenge({
    realm: REALM,
    nonce: 'reg-nonce',
    algorithm: DigestAlgorithm.Md5,
  })
  pair.bob.setHandler('REGISTER', (incoming: IncomingRequest) => {
    const request = incoming.request
    registrar.seen.push(request)
    if (registrar.failWith) {
      incoming.respond(registrar.failWith)
      return
    }
    const credentials = request.authorization[0]
    const valid =
      credentials !== undefined &&
      verifyCredentials(credentials, {
        ha1: computeHa1(DigestAlgorithm.Md5, CREDENTIALS.username, REALM, CREDENTIALS.password),
        algorithm: DigestAlgorithm.Md5,
        realm: REALM,
        method: 'REGISTER',
      })
    if (!valid) {
      registrar.challenges++
      incoming.respond(401, { headers: [['WWW-Authenticate', challenge.toString()]] })
      return
    }
    const expires = request.expires ?? 0
    const contact = request.contacts[0].withParam(
      'expires',
      String(Math.min(expires, registrar.grant))
    )
    incoming.respond(200, { headers: [['Contact', contact.toString()]] })
  })
  const client = new RegistrationClient({
    core: pair.alice,
    clock: pair.clock,
    registrar: SipUri.parse(`sip:${BOB_HOST}`),
    aor: SipUri.parse(`sip:trunk7@${BOB_HOST}`),
    credentials: CREDENTIALS,
    expires: 3600,
    retryBaseMs: 10_000,
    retryMaxMs: 40_000,
    callId: 'reg-call-1',
  })
  const states: RegistrationState[] = []
  client.onChange((status) => states.push(status.state))
  return { ...pair, registrar, client, states }
}

test.group('Registration client', () => {
  test('registers with digest, refreshes at half the granted lifetime reusing the nonce, unregisters on stop', async ({
    assert,
  }) => {
    const { clock, registrar, client, states, alice } = carrierRegistrar()
    client.start()
    clock.advance(100)
    assert.equal(client.state, RegistrationState.Registered)
    assert.equal(registrar.challenges, 1)
    // REGISTER, 401, REGISTER with credentials, 200: the 200 arrives at 40 ms.
    assert.equal(client.snapshot().expiresAt, 40 + 60_000)

    clock.advance(30_000)
    assert.lengthOf(registrar.seen, 3, 'refreshed after 30 s')
    assert.equal(registrar.challenges, 1, 'the refresh answered the old challenge preemptively')
    const refresh = registrar.seen[2]
    assert.equal(refresh.authorization[0].get('nc'), '00000002')
    assert.equal(refresh.authorization[0].get('nonce'), 'reg-nonce')
    assert.deepEqual(
      registrar.seen.map((request) => request.callId),
      ['reg-call-1', 'reg-call-1', 'reg-call-1']
    )
    assert.deepEqual(
      registrar.seen.map((request) => request.cseq.sequence),
      [1, 2, 3]
    )
    assert.equal(client.state, RegistrationState.Registered)

    const stopped = client.stop()
    clock.advance(100)
    await stopped
    const last = registrar.seen.at(-1)!
    assert.equal(last.expires, 0)
    assert.equal(client.state, RegistrationState.Unregistered)
    assert.deepEqual(states, [
      RegistrationState.Registering,
      RegistrationState.Registered,
      RegistrationState.Registered,
      RegistrationState.Unregistering,
      RegistrationState.Unregistered,
    ])
    clock.runAll()
    assert.equal(alice.transactionCount, 0)
    assert.equal(clock.pending, 0)
  })

  test('stop during the first REGISTER: its digest retry is answered first, then the Expires: 0', async ({
    assert,
  }) => {
    const { clock, registrar, client, states } = carrierRegistrar()
    client.start()
    clock.advance(5)
    // The REGISTER is on its way and will be challenged; the stop comes before the retry.
    const stopped = client.stop()
    clock.advance(200)
    await stopped
    assert.deepEqual(
      registrar.seen.map((request) => [
        request.cseq.sequence,
        request.expires,
        request.authorization.length > 0,
      ]),
      [
        [1, 3600, false],
        [2, 3600, true],
        [3, 0, true],
      ],
      'the Expires: 0 is the last word'
    )
    assert.equal(client.state, RegistrationState.Unregistered)
    assert.deepEqual(states, [
      RegistrationState.Registering,
      RegistrationState.Unregistering,
      RegistrationState.Unregistered,
    ])
  })

  test('abandon: a stop given up on sends nothing more', async ({ assert }) => {
    const { clock, network, registrar, client } = carrierRegistrar()
    client.start()
    clock.advance(100)
    assert.equal(client.state, RegistrationState.Registered)
    network.drop((message) => (message as SipRequest).method === 'REGISTER', 1)
    clock.advance(30_000)
    assert.lengthOf(registrar.seen, 2, 'the refresh was lost on the way')
    // Stopping now waits for the refresh, which is retransmitted; the caller gives up first.
    void client.stop()
    client.abandon()
    clock.advance(64_000)
    assert.notInclude(
      registrar.seen.map((request) => request.expires),
      0,
      'no Expires: 0 after the stop was abandoned'
    )
  })

  test('failures back off exponentially up to the cap; recovery resets the count', ({ assert }) => {
    const { clock, registrar, client } = carrierRegistrar()
    registrar.failWith = 503
    client.start()
    clock.advance(100)
    const first = client.snapshot()
    assert.equal(first.state, RegistrationState.Failed)
    assert.equal(first.lastError?.status, 503)
    assert.equal(first.consecutiveFailures, 1)
    assert.equal(first.nextAttemptAt, first.lastError!.at + 10_000)

    clock.advance(10_000)
    assert.equal(client.snapshot().nextAttemptAt! - client.snapshot().lastError!.at, 20_000)
    clock.advance(20_000)
    assert.equal(client.snapshot().nextAttemptAt! - client.snapshot().lastError!.at, 40_000)
    clock.advance(40_000)
    assert.equal(
      client.snapshot().nextAttemptAt! - client.snapshot().lastError!.at,
      40_000,
      'capped'
    )
    assert.lengthOf(registrar.seen, 4)

    registrar.failWith = 0
    clock.advance(40_100)
    const recovered = client.snapshot()
    assert.equal(recovered.state, RegistrationState.Registered)
    assert.equal(recovered.consecutiveFailures, 0)
    void client.stop()
  })

  test('an unreachable registrar times out (408) and is retried', ({ assert }) => {
    const { clock, network, client } = carrierRegistrar()
    network.drop((message) => (message as SipRequest).method === 'REGISTER', 1_000)
    client.start()
    clock.advance(32_000)
    assert.equal(client.snapshot().state, RegistrationState.Failed)
    assert.equal(client.snapshot().lastError?.status, 408)
    assert.equal(client.snapshot().nextAttemptAt, 32_000 + 10_000)
    void client.stop()
  })
})
