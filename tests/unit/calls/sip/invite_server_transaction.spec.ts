import { test } from '@japa/runner'
import FakeClock from '#sip/clock/fake_clock'
import InviteServerTransaction, {
  InviteServerState,
} from '#sip/transaction/invite_server_transaction'
import { resolveTimers } from '#sip/transaction/timer_config'
import { createResponse } from '#sip/message/create_response'
import type SipRequest from '#sip/message/sip_request'
import {
  PEER,
  RecordingTransport,
  invite,
  inviteAck,
  parseRequest,
} from '#tests/unit/calls/sip/sip_fixtures'

function setup(reliable = false) {
  const clock = new FakeClock()
  const transport = new RecordingTransport(reliable, () => clock.now())
  const request = parseRequest(invite())
  const acks: SipRequest[] = []
  let timeouts = 0
  const transaction = new InviteServerTransaction(
    { request, transport, destination: PEER, clock, timers: resolveTimers() },
    { receiveAck: (ack) => acks.push(ack), timeout: () => timeouts++ }
  )
  const ack = parseRequest(inviteAck())
  return { clock, transport, request, transaction, ack, acks, timeouts: () => timeouts }
}

test.group('InviteServerTransaction', () => {
  test('sends 100 Trying after 200 ms when the user has not answered', ({ assert }) => {
    const { clock, transport, transaction } = setup()
    clock.advance(199)
    assert.lengthOf(transport.sent, 0)
    clock.advance(1)
    const [trying] = transport.responses(100)
    assert.equal(trying.reason, 'Trying')
    assert.equal(transport.sent[0].at, 200)
    assert.isUndefined(trying.to.tag)
    assert.equal(transaction.state, InviteServerState.Proceeding)
  })

  test('sends no 100 Trying when the user answers first; resends the last provisional', ({
    assert,
  }) => {
    const { clock, transport, request, transaction } = setup()
    clock.advance(50)
    transaction.respond(createResponse(request, 180, { toTag: 'uas' }))
    clock.advance(1000)
    transaction.receiveRequest(request)
    assert.deepEqual(
      transport.responses().map((response) => response.status),
      [180, 180]
    )
  })

  test('retransmits a non-2xx final with T1 doubling capped at T2 until Timer H', ({ assert }) => {
    const { clock, transport, request, transaction, timeouts } = setup()
    transaction.respond(createResponse(request, 486, { toTag: 'uas' }))
    assert.equal(transaction.state, InviteServerState.Completed)
    clock.advance(31_999)
    assert.deepEqual(
      transport.times(),
      [0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
    )
    clock.advance(1)
    assert.equal(transaction.state, InviteServerState.Terminated)
    assert.equal(timeouts(), 1)
    assert.equal(clock.pending, 0)
  })

  test('answers an INVITE retransmission in Completed with the final response', ({ assert }) => {
    const { clock, transport, request, transaction } = setup()
    transaction.respond(createResponse(request, 404, { toTag: 'uas' }))
    clock.advance(200)
    transaction.receiveRequest(request)
    assert.deepEqual(transport.times(), [0, 200])
  })

  test('an ACK stops retransmissions; Timer I absorbs ACK retransmissions', ({ assert }) => {
    const { clock, transport, request, transaction, ack, acks } = setup()
    transaction.respond(createResponse(request, 486, { toTag: 'uas' }))
    clock.advance(1600)
    transaction.receiveAck(ack)
    assert.equal(transaction.state, InviteServerState.Confirmed)
    transaction.receiveAck(ack)
    transaction.receiveRequest(request)
    clock.advance(4999)
    assert.deepEqual(transport.times(), [0, 500, 1500])
    assert.lengthOf(acks, 0)
    assert.equal(transaction.state, InviteServerState.Confirmed)
    clock.advance(1)
    assert.equal(transaction.state, InviteServerState.Terminated)
  })

  test('after a 2xx: Accepted, absorbs INVITE retransmissions, passes 2xx retransmissions, ends after Timer L', ({
    assert,
  }) => {
    const { clock, transport, request, transaction, ack, acks } = setup()
    const ok = createResponse(request, 200, { toTag: 'uas' })
    transaction.respond(ok)
    assert.equal(transaction.state, InviteServerState.Accepted)
    clock.advance(500)
    transaction.receiveRequest(request)
    transaction.respond(ok)
    transaction.receiveAck(ack)
    assert.deepEqual(transport.times(), [0, 500])
    assert.lengthOf(acks, 1)
    assert.throws(() => transaction.respond(createResponse(request, 486)))
    clock.advance(31_500)
    assert.equal(transaction.state, InviteServerState.Terminated)
  })

  test('over a reliable transport: no retransmissions and the ACK ends it', ({ assert }) => {
    const { clock, transport, request, transaction, ack } = setup(true)
    transaction.respond(createResponse(request, 480, { toTag: 'uas' }))
    clock.advance(10_000)
    assert.deepEqual(transport.times(), [0])
    transaction.receiveAck(ack)
    assert.equal(transaction.state, InviteServerState.Terminated)
    assert.equal(clock.pending, 0)
  })
})
