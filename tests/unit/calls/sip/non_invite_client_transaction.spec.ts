import { test } from '@japa/runner'
import FakeClock from '#sip/clock/fake_clock'
import NonInviteClientTransaction, {
  NonInviteClientState,
} from '#sip/transaction/non_invite_client_transaction'
import { resolveTimers } from '#sip/transaction/timer_config'
import type SipResponse from '#sip/message/sip_response'
import {
  PEER,
  RecordingTransport,
  options,
  parseRequest,
  responseTo,
} from '#tests/unit/calls/sip/sip_fixtures'

function setup(reliable = false) {
  const clock = new FakeClock()
  const transport = new RecordingTransport(reliable, () => clock.now())
  const responses: SipResponse[] = []
  let timeouts = 0
  const request = parseRequest(options())
  const transaction = new NonInviteClientTransaction(
    { request, transport, destination: PEER, clock, timers: resolveTimers() },
    { receiveResponse: (response) => responses.push(response), timeout: () => timeouts++ }
  )
  transaction.start()
  return { clock, transport, request, transaction, responses, timeouts: () => timeouts }
}

test.group('NonInviteClientTransaction', () => {
  test('retransmits with intervals doubling up to T2 until Timer F at 32 s', ({ assert }) => {
    const { clock, transport, transaction, timeouts } = setup()
    clock.advance(31_999)
    assert.deepEqual(
      transport.times(),
      [0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
    )
    assert.equal(transaction.state, NonInviteClientState.Trying)
    clock.advance(1)
    assert.equal(timeouts(), 1)
    assert.equal(transaction.state, NonInviteClientState.Terminated)
    assert.equal(clock.pending, 0)
  })

  test('retransmits every T2 once a provisional response came', ({ assert }) => {
    const { clock, transport, request, transaction, responses } = setup()
    clock.advance(700)
    transaction.receiveResponse(responseTo(request, 100))
    assert.equal(transaction.state, NonInviteClientState.Proceeding)
    clock.advance(9800)
    assert.deepEqual(transport.times(), [0, 500, 1500, 5500, 9500])
    assert.deepEqual(
      responses.map((response) => response.status),
      [100]
    )
  })

  test('a final response completes it; Timer K absorbs retransmitted responses', ({ assert }) => {
    const { clock, transport, request, transaction, responses } = setup()
    clock.advance(600)
    const ok = responseTo(request, 200)
    transaction.receiveResponse(ok)
    assert.equal(transaction.state, NonInviteClientState.Completed)
    clock.advance(1000)
    transaction.receiveResponse(ok)
    transaction.receiveResponse(responseTo(request, 100))
    assert.deepEqual(
      responses.map((response) => response.status),
      [200]
    )
    assert.deepEqual(transport.times(), [0, 500])

    clock.advance(3999)
    assert.equal(transaction.state, NonInviteClientState.Completed)
    clock.advance(1)
    assert.equal(transaction.state, NonInviteClientState.Terminated)
    assert.equal(clock.pending, 0)
  })

  test('over a reliable transport: no retransmissions, no Timer K', ({ assert }) => {
    const { clock, transport, request, transaction } = setup(true)
    clock.advance(10_000)
    assert.deepEqual(transport.times(), [0])
    transaction.receiveResponse(responseTo(request, 404))
    assert.equal(transaction.state, NonInviteClientState.Terminated)
    assert.equal(clock.pending, 0)
  })
})
