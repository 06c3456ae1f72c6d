import { test } from '@japa/runner'
import FakeClock from '#sip/clock/fake_clock'
import InviteServerTransaction, {
  InviteServerState,
} from '#sip/transaction/invite_server_transaction'
import NonInviteServerTransaction, {
  NonInviteServerState,
} from '#sip/transaction/non_invite_server_transaction'
import NonInviteClientTransaction from '#sip/transaction/non_invite_client_transaction'
import InviteClientTransaction from '#sip/transaction/invite_client_transaction'
import { resolveTimers } from '#sip/transaction/timer_config'
import { createResponse } from '#sip/message/create_response'
import type SipMessage from '#sip/message/sip_message'
import type { TransactionTransport } from '#sip/transaction/transaction_transport'
import {
  PEER,
  invite,
  inviteAck,
  options,
  parseRequest,
  responseTo,
} from '#tests/unit/calls/sip/sip_fixtures'
import { collected } from '#tests/unit/calls/sip/support/reachability'
import { createPhonePair, run, sdp } from '#tests/unit/calls/sip/support/phone_pair'

/**
 * A transaction outlives its final response for its timers (Timer I 5 s, J 32 s, K 5 s on UDP).
 * What it keeps then lives as long: a challenged INVITE or a BYE, kept for nothing, outlives two
 * scavenges and is copied into the old generation (issue 17, bench/README.md eighteenth round of
 * the call set-ups). Once it only absorbs retransmissions, it must let them go.
 */
/** Sends into the void, remembering only the first line of what went out (no message kept). */
class StartLineTransport implements TransactionTransport {
  readonly reliable = false
  readonly sent: string[] = []

  send(message: SipMessage): void {
    this.sent.push(message.startLine())
  }
}

/**
 * A server transaction for `text`, answered `status`; its request, answer and user reachable
 * only through it (made in a function of their own, so that no local of the test holds them).
 */
function answerServer<T extends InviteServerTransaction | NonInviteServerTransaction>(
  Transaction: new (
    context: ConstructorParameters<typeof NonInviteServerTransaction>[0],
    user: { receiveAck?: () => void; transportError?: () => void }
  ) => T,
  text: string,
  status: number
) {
  const clock = new FakeClock()
  const transport = new StartLineTransport()
  const request = parseRequest(text)
  const user = { receiveAck: () => {}, transportError: () => {} }
  const transaction = new Transaction(
    { request, transport, destination: PEER, clock, timers: resolveTimers() },
    user
  )
  const answer = createResponse(request, status, { toTag: 'uas' })
  transaction.respond(answer)
  const refs = [
    new WeakRef<object>(request),
    new WeakRef<object>(user),
    new WeakRef<object>(answer),
  ]
  return { clock, transport, refs, transaction }
}

/**
 * A client transaction started on `text`, its request and user reachable only through it (made
 * in a function of their own, so that no local of the test holds them), and the answer the peer
 * will give.
 */
function startClient(
  Transaction: typeof NonInviteClientTransaction | typeof InviteClientTransaction,
  text: string,
  status: number
) {
  const clock = new FakeClock()
  const transport = new StartLineTransport()
  const refs: Array<WeakRef<object>> = []
  const statuses: number[] = []
  const request = parseRequest(text)
  const user = { receiveResponse: (answer: { status: number }) => statuses.push(answer.status) }
  const transaction = new Transaction(
    { request, transport, destination: PEER, clock, timers: resolveTimers() },
    user
  )
  transaction.start()
  refs.push(new WeakRef(request), new WeakRef(user))
  return { clock, transport, refs, statuses, transaction, answer: responseTo(request, status) }
}

test.group('Transactions / what a completed transaction keeps', () => {
  test('an INVITE answered 4xx: once ACKed, Timer I keeps neither the INVITE, its answer nor its user', async ({
    assert,
  }) => {
    const { clock, transport, refs, transaction } = answerServer(
      InviteServerTransaction,
      invite(),
      401
    )
    clock.advance(500)
    // Completed: the INVITE retransmitted gets the 401 again, so it is still kept
    transaction.receiveRequest(parseRequest(invite()))
    assert.deepEqual(transport.sent, [
      'SIP/2.0 401 Unauthorized',
      'SIP/2.0 401 Unauthorized',
      'SIP/2.0 401 Unauthorized',
    ])
    assert.isFalse(await collected(refs), 'Completed still resends the 401')

    transaction.receiveAck(parseRequest(inviteAck()))
    assert.equal(transaction.state, InviteServerState.Confirmed)
    assert.isTrue(await collected(refs), 'Confirmed kept the INVITE, its 401 or its user')
    // Still absorbing: ACK and INVITE retransmissions send nothing, and Timer I ends it
    transaction.receiveAck(parseRequest(inviteAck()))
    transaction.receiveRequest(parseRequest(invite()))
    assert.lengthOf(transport.sent, 3)
    assert.equal(transaction.branch, 'z9hG4bK776asdhds')
    assert.throws(() => transaction.request, /released/)
    clock.advance(5000)
    assert.equal(transaction.state, InviteServerState.Terminated)
  })

  test('a BYE answered: Timer J keeps the answer for retransmissions, not the request or its user', async ({
    assert,
  }) => {
    const { clock, transport, refs, transaction } = answerServer(
      NonInviteServerTransaction,
      options(),
      200
    )
    refs.pop() // the 200 is kept for retransmitted requests, by design
    assert.equal(transaction.state, NonInviteServerState.Completed)
    assert.isTrue(await collected(refs), 'Completed kept the request or its user')
    transaction.receiveRequest(parseRequest(options()))
    assert.deepEqual(transport.sent, ['SIP/2.0 200 OK', 'SIP/2.0 200 OK'])
    assert.equal(transaction.lastResponse?.status, 200)
    clock.advance(32_000)
    assert.equal(transaction.state, NonInviteServerState.Terminated)
  })

  test('{title}')
    .with([
      {
        title: 'our BYE answered: Timer K keeps neither the request nor its user',
        Transaction: NonInviteClientTransaction,
        text: options(),
        status: 200,
        // Retransmitted responses are absorbed: nothing more goes out
        sent: ['OPTIONS sip:carrier.example.net SIP/2.0'],
        lingers: 5000,
      },
      {
        title: "our INVITE challenged (a carrier's 407): Timer D keeps the ACK, not the INVITE",
        Transaction: InviteClientTransaction,
        text: invite(),
        status: 407,
        // The 407 retransmitted: the ACK goes again
        sent: [
          'INVITE sip:bob@biloxi.example.com SIP/2.0',
          'ACK sip:bob@biloxi.example.com SIP/2.0',
          'ACK sip:bob@biloxi.example.com SIP/2.0',
        ],
        lingers: 32_000,
      },
    ])
    .run(async ({ assert }, row) => {
      const { clock, transport, refs, statuses, transaction, answer } = startClient(
        row.Transaction,
        row.text,
        row.status
      )
      clock.advance(100)
      assert.isFalse(await collected(refs), 'still retransmitting, it needs its request')
      transaction.receiveResponse(answer)
      assert.isFalse(transaction.isTerminated)
      assert.deepEqual(statuses, [row.status], 'the user still hears of the final response')
      assert.isTrue(await collected(refs), 'completed, it kept the request or its user')
      transaction.receiveResponse(answer)
      assert.deepEqual(statuses, [row.status], 'the user hears of the final response once')
      assert.deepEqual(transport.sent, row.sent)
      clock.advance(row.lingers - 1)
      assert.isFalse(transaction.isTerminated)
      clock.advance(1)
      assert.isTrue(transaction.isTerminated)
    })

  test('through the core: a rejected INVITE and its handler are let go while Timer I runs', async ({
    assert,
  }) => {
    const pair = createPhonePair()
    const { clock, alice, bob } = pair
    const refs: Array<WeakRef<object>> = []
    const finals: number[] = []
    bob.setInviteHandler((incoming) => {
      refs.push(new WeakRef(incoming), new WeakRef(incoming.request))
      incoming.reject(486)
    })
    alice.invite({ uri: pair.bobUri, description: sdp('alice') }).delegate = {
      onRejected: (response) => finals.push(response.status),
    }
    await run(clock, 100)
    assert.deepEqual(finals, [486])
    assert.lengthOf(refs, 2)
    assert.isAbove(bob.transactions.serverCount, 0, "Timer I keeps bob's transaction")
    assert.isTrue(await collected(refs), 'the rejected INVITE is still reachable')
    await run(clock, 5000)
    assert.equal(bob.transactions.serverCount, 0)
  })
})
