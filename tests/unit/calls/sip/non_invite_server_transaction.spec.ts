import { test } from '@japa/runner'
import FakeClock from '#sip/clock/fake_clock'
import NonInviteServerTransaction, {
  NonInviteServerState,
} from '#sip/transaction/non_invite_server_transaction'
import { resolveTimers } from '#sip/transaction/timer_config'
import { createResponse } from '#sip/message/create_response'
import { PEER, RecordingTransport, options, parseRequest } from '#tests/unit/calls/sip/sip_fixtures'

function setup(reliable = false) {
  const clock = new FakeClock()
  const transport = new RecordingTransport(reliable, () => clock.now())
  const request = parseRequest(options())
  const transaction = new NonInviteServerTransaction({
    request,
    transport,
    destination: PEER,
    clock,
    timers: resolveTimers(),
  })
  return { clock, transport, request, transaction }
}

test.group('NonInviteServerTransaction', () => {
  test('absorbs retransmissions before any response', ({ assert }) => {
    const { clock, transport, request, transaction } = setup()
    clock.advance(500)
    transaction.receiveRequest(request)
    assert.lengthOf(transport.sent, 0)
    assert.equal(transaction.state, NonInviteServerState.Trying)
  })

  test('resends the latest provisional response in Proceeding', ({ assert }) => {
    const { transport, request, transaction } = setup()
    transaction.respond(createResponse(request, 100))
    assert.equal(transaction.state, NonInviteServerState.Proceeding)
    transaction.receiveRequest(request)
    assert.deepEqual(
      transport.responses().map((response) => response.status),
      [100, 100]
    )
  })

  test('resends the final response to retransmissions until Timer J', ({ assert }) => {
    const { clock, transport, request, transaction } = setup()
    transaction.respond(createResponse(request, 200, { toTag: 'uas' }))
    assert.equal(transaction.state, NonInviteServerState.Completed)
    clock.advance(1000)
    transaction.receiveRequest(request)
    clock.advance(20_000)
    transaction.receiveRequest(request)
    assert.deepEqual(transport.times(), [0, 1000, 21_000])
    assert.throws(() => transaction.respond(createResponse(request, 500)))
    clock.advance(10_999)
    assert.equal(transaction.state, NonInviteServerState.Completed)
    clock.advance(1)
    assert.equal(transaction.state, NonInviteServerState.Terminated)
    transaction.receiveRequest(request)
    assert.lengthOf(transport.sent, 3)
  })

  test('over a reliable transport it ends with the final response', ({ assert }) => {
    const { clock, request, transaction } = setup(true)
    transaction.respond(createResponse(request, 200, { toTag: 'uas' }))
    assert.equal(transaction.state, NonInviteServerState.Terminated)
    assert.equal(clock.pending, 0)
  })
})
