import { test } from '@japa/runner'
import type SipRequest from '#sip/message/sip_request'
import { DigestAlgorithm, computeHa1, createChallenge, verifyCredentials } from '#sip/auth/digest'
import type IncomingRequest from '#sip/ua/incoming_request'
import type IncomingInvite from '#sip/ua/incoming_invite'
import { OutgoingInviteState } from '#sip/ua/outgoing_invite'
import { createPhonePair, run, sdp } from '#tests/unit/calls/sip/support/phone_pair'

const REALM = 'carrier.example'
const CREDENTIALS = { username: 'trunk7', password: 's3cret' }

/** Checks the credentials a request carries in `header` against the known password. */
function authorized(request: SipRequest, header: string, algorithm: DigestAlgorithm): boolean {
  const value = request.headers.get(header)
  if (!value) {
    return false
  }
  const credentials =
    header === 'authorization' ? request.authorization[0] : request.proxyAuthorization[0]
  return verifyCredentials(credentials, {
    ha1: computeHa1(algorithm, CREDENTIALS.username, REALM, CREDENTIALS.password),
    algorithm,
    realm: REALM,
    method: request.method,
  })
}

/** Bob as a carrier that challenges every INVITE without valid credentials. */
function challengingCarrier(status: 401 | 407, algorithm: DigestAlgorithm) {
  const pair = createPhonePair()
  const authHeader = status === 401 ? 'authorization' : 'proxy-authorization'
  const challengeHeader = status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate'
  const challenge = createChallenge({ realm: REALM, nonce: 'nonce-1', algorithm, opaque: 'op' })
  pair.bob.setInviteHandler((invite: IncomingInvite) => {
    if (authorized(invite.request, authHeader, algorithm)) {
      invite.accept({ description: sdp('carrier') })
    } else {
      invite.reject(status, { headers: [[challengeHeader, challenge.toString()]] })
    }
  })
  return { ...pair, authHeader }
}

test.group('Client digest authentication', () => {
  for (const [status, algorithm] of [
    [401, DigestAlgorithm.Md5],
    [401, DigestAlgorithm.Sha256],
    [407, DigestAlgorithm.Md5],
    [407, DigestAlgorithm.Sha256],
  ] as const) {
    test(`an INVITE challenged with ${status} ${algorithm} is retried once with credentials`, ({
      assert,
    }) => {
      const { clock, network, alice, bob, aliceAddress, bobUri, authHeader } = challengingCarrier(
        status,
        algorithm
      )
      const call = alice.invite({
        uri: bobUri,
        description: sdp('alice'),
        credentials: CREDENTIALS,
      })
      clock.advance(500)
      assert.equal(call.state, OutgoingInviteState.Accepted, network.trace())
      const invites = network.requests('INVITE', aliceAddress)
      assert.lengthOf(invites, 2)
      assert.equal(invites[1].cseq.sequence, invites[0].cseq.sequence + 1)
      assert.equal(invites[1].callId, invites[0].callId)
      assert.notEqual(invites[1].topVia.branch, invites[0].topVia.branch)
      const credentials =
        authHeader === 'authorization'
          ? invites[1].authorization[0]
          : invites[1].proxyAuthorization[0]
      assert.equal(credentials.get('algorithm'), algorithm)
      assert.equal(credentials.get('qop'), 'auth')
      assert.equal(credentials.get('nc'), '00000001')
      assert.equal(credentials.get('opaque'), 'op')
      const acks = network.requests('ACK', aliceAddress)
      assert.lengthOf(acks, 2, 'one for the challenge, one for the 2xx')
      assert.equal(acks[1].headers.get(authHeader), invites[1].headers.get(authHeader))
      call.dialog?.bye()
      clock.runAll()
      assert.equal(alice.transactionCount + bob.transactionCount, 0)
    })
  }

  test('wrong credentials: the second challenge is final, not retried again', ({ assert }) => {
    const { clock, network, alice, aliceAddress, bobUri } = challengingCarrier(
      401,
      DigestAlgorithm.Md5
    )
    const rejected: number[] = []
    alice.invite({
      uri: bobUri,
      description: sdp('alice'),
      credentials: { username: 'trunk7', password: 'wrong' },
      delegate: { onRejected: (response) => rejected.push(response.status) },
    })
    clock.advance(500)
    assert.lengthOf(network.requests('INVITE', aliceAddress), 2)
    assert.deepEqual(rejected, [401])
  })

  test('credentials come from the provider; a reused nonce increments nc', async ({ assert }) => {
    const asked: Array<{ realm: string; proxy: boolean }> = []
    const pair = createPhonePair({
      credentials: {
        credentialsFor: (challenge) => {
          asked.push(challenge)
          return CREDENTIALS
        },
      },
    })
    const challenge = createChallenge({
      realm: REALM,
      nonce: 'same-nonce',
      algorithm: DigestAlgorithm.Sha256,
    })
    const counts: string[] = []
    pair.bob.setHandler('MESSAGE', (request: IncomingRequest) => {
      const credentials = request.request.authorization[0]
      if (credentials && authorized(request.request, 'authorization', DigestAlgorithm.Sha256)) {
        counts.push(credentials.get('nc') ?? '')
        request.respond(200)
      } else {
        request.respond(401, { headers: [['WWW-Authenticate', challenge.toString()]] })
      }
    })
    const first = pair.alice.request({ method: 'MESSAGE', uri: pair.bobUri })
    const second = pair.alice.request({ method: 'MESSAGE', uri: pair.bobUri })
    await run(pair.clock, 500)
    assert.equal((await first.response).status, 200)
    assert.equal((await second.response).status, 200)
    assert.deepEqual(counts, ['00000001', '00000002'])
    assert.deepEqual(asked, [
      { realm: REALM, proxy: false },
      { realm: REALM, proxy: false },
    ])
  })
})
