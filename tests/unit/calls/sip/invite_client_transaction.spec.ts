import { test } from '@japa/runner'
import FakeClock from '#sip/clock/fake_clock'
import InviteClientTransaction, {
  InviteClientState,
} from '#sip/transaction/invite_client_transaction'
import { resolveTimers } from '#sip/transaction/timer_config'
import type SipResponse from '#sip/message/sip_response'
import type { ClientTransactionUser } from '#sip/transaction/transaction_user'
import {
  PEER,
  RecordingTransport,
  invite,
  parseRequest,
  responseTo,
} from '#tests/unit/calls/sip/sip_fixtures'

class RecordingUser implements ClientTransactionUser {
  responses: SipResponse[] = []
  timeouts = 0
  transportErrors: unknown[] = []

  receiveResponse(response: SipResponse) {
    this.responses.push(response)
  }

  timeout() {
    this.timeouts++
  }

  transportError(error: unknown) {
    this.transportErrors.push(error)
  }
}

function setup(reliable = false) {
  const clock = new FakeClock()
  const transport = new RecordingTransport(reliable, () => clock.now())
  const user = new RecordingUser()
  const request = parseRequest(invite({ extra: ['Route: <sip:edge.example.com;lr>'] }))
  const transaction = new InviteClientTransaction(
    { request, transport, destination: PEER, clock, timers: resolveTimers() },
    user
  )
  transaction.start()
  return { clock, transport, user, request, transaction }
}

test.group('InviteClientTransaction', () => {
  test('retransmits at 0.5, 1, 2, 4, 8, 16 s intervals until Timer B at 32 s', ({ assert }) => {
    const { clock, transport, user, transaction } = setup()
    clock.advance(31_999)
    assert.deepEqual(transport.times(), [0, 500, 1500, 3500, 7500, 15_500, 31_500])
    assert.equal(transaction.state, InviteClientState.Calling)
    assert.equal(user.timeouts, 0)

    clock.advance(1)
    assert.equal(transaction.state, InviteClientState.Terminated)
    assert.equal(user.timeouts, 1)
    clock.advance(60_000)
    assert.lengthOf(transport.sent, 7)
    assert.equal(clock.pending, 0)
  })

  test('a provisional response stops retransmissions', ({ assert }) => {
    const { clock, transport, user, request, transaction } = setup()
    clock.advance(700)
    transaction.receiveResponse(responseTo(request, 180))
    assert.equal(transaction.state, InviteClientState.Proceeding)
    clock.advance(120_000)
    assert.deepEqual(transport.times(), [0, 500])
    assert.equal(user.timeouts, 0)
    assert.deepEqual(
      user.responses.map((response) => response.status),
      [180]
    )
    assert.equal(transaction.state, InviteClientState.Proceeding)
  })

  test('acknowledges a non-2xx final response and absorbs its retransmissions until Timer D', ({
    assert,
  }) => {
    const { clock, transport, user, request, transaction } = setup()
    clock.advance(100)
    transaction.receiveResponse(responseTo(request, 180))
    const busy = responseTo(request, 486, 'busy-tag')
    transaction.receiveResponse(busy)
    assert.equal(transaction.state, InviteClientState.Completed)

    const [ack] = transport.requests('ACK')
    assert.equal(ack.uri.toString(), request.uri.toString())
    assert.equal(ack.topVia.branch, request.topVia.branch)
    assert.lengthOf(ack.via, 1)
    assert.equal(ack.cseq.toString(), '314159 ACK')
    assert.equal(ack.to.tag, 'busy-tag')
    assert.equal(ack.from.tag, request.from.tag)
    assert.equal(ack.callId, request.callId)
    assert.deepEqual(ack.routes.map(String), request.routes.map(String))

    // The 486 is retransmitted because our ACK was lost: the ACK goes again, the user hears once.
    clock.advance(1000)
    transaction.receiveResponse(busy)
    assert.lengthOf(transport.requests('ACK'), 2)
    assert.deepEqual(
      user.responses.map((response) => response.status),
      [180, 486]
    )

    clock.advance(30_999)
    assert.equal(transaction.state, InviteClientState.Completed)
    clock.advance(1)
    assert.equal(transaction.state, InviteClientState.Terminated)
    assert.equal(user.timeouts, 0)
  })

  test('passes 2xx and its retransmissions up without an ACK, then ends after Timer M', ({
    assert,
  }) => {
    const { clock, transport, user, request, transaction } = setup()
    clock.advance(1600)
    const ok = responseTo(request, 200)
    transaction.receiveResponse(ok)
    assert.equal(transaction.state, InviteClientState.Accepted)
    clock.advance(500)
    transaction.receiveResponse(ok)
    transaction.receiveResponse(responseTo(request, 486))
    assert.deepEqual(
      user.responses.map((response) => response.status),
      [200, 200]
    )
    assert.lengthOf(transport.requests('ACK'), 0)
    assert.deepEqual(transport.times(), [0, 500, 1500])

    clock.advance(31_500)
    assert.equal(transaction.state, InviteClientState.Terminated)
    assert.equal(clock.pending, 0)
  })

  test('does not retransmit over a reliable transport, but still times out', ({ assert }) => {
    const { clock, transport, user, transaction } = setup(true)
    clock.advance(32_000)
    assert.deepEqual(transport.times(), [0])
    assert.equal(user.timeouts, 1)
    assert.equal(transaction.state, InviteClientState.Terminated)
  })

  test('ends at once after the ACK of a non-2xx over a reliable transport', ({ assert }) => {
    const { transport, request, transaction } = setup(true)
    transaction.receiveResponse(responseTo(request, 603))
    assert.lengthOf(transport.requests('ACK'), 1)
    assert.equal(transaction.state, InviteClientState.Terminated)
  })

  test('sends the ACK of a non-2xx before the user hears of it (a 401 retry must not overtake it)', ({
    assert,
  }) => {
    const { transport, user, request, transaction } = setup()
    let acksWhenUserHeard = -1
    user.receiveResponse = (response) => {
      user.responses.push(response)
      acksWhenUserHeard = transport.requests('ACK').length
    }
    transaction.receiveResponse(responseTo(request, 401, 'auth-tag'))
    assert.equal(acksWhenUserHeard, 1)
  })

  test('a failed ACK is reported after the final response it acknowledges', ({ assert }) => {
    const { transport, user, request, transaction } = setup()
    transport.failNext = true
    transaction.receiveResponse(responseTo(request, 486, 'busy-tag'))
    assert.deepEqual(
      user.responses.map((response) => response.status),
      [486]
    )
    assert.lengthOf(user.transportErrors, 1)
    assert.equal(transaction.state, InviteClientState.Terminated)
  })

  test('reports a transport error and terminates', ({ assert }) => {
    const { clock, transport, user, transaction } = setup()
    transport.failNext = true
    clock.advance(500)
    assert.equal(transaction.state, InviteClientState.Terminated)
    assert.lengthOf(user.transportErrors, 1)
    assert.equal(clock.pending, 0)
  })

  test('honours configured timer values', ({ assert }) => {
    const clock = new FakeClock()
    const transport = new RecordingTransport(false, () => clock.now())
    const user = new RecordingUser()
    const transaction = new InviteClientTransaction(
      {
        request: parseRequest(invite()),
        transport,
        destination: PEER,
        clock,
        timers: resolveTimers({ t1: 100 }),
      },
      user
    )
    transaction.start()
    clock.advance(6400)
    assert.deepEqual(transport.times(), [0, 100, 300, 700, 1500, 3100, 6300])
    assert.equal(user.timeouts, 1)
  })
})
