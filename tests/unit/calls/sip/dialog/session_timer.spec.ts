import { test } from '@japa/runner'
import type SipRequest from '#sip/message/sip_request'
import type SipDialog from '#sip/dialog/sip_dialog'
import { DialogEndReason, DialogState } from '#sip/dialog/dialog_state'
import { SessionTimerState } from '#sip/dialog/session_timer'
import { OutgoingInviteState } from '#sip/ua/outgoing_invite'
import { createPhonePair, sdp } from '#tests/unit/calls/sip/support/phone_pair'

function timedCall(aliceInterval: number, bobMinSE = 90) {
  const pair = createPhonePair(
    { sessionTimer: { sessionExpires: aliceInterval } },
    { sessionTimer: { minSE: bobMinSE } }
  )
  const sides: { alice?: SipDialog; bob?: SipDialog } = {}
  pair.bob.setInviteHandler((invite) => (sides.bob = invite.accept({ description: sdp('bob') })))
  const call = pair.alice.invite({
    uri: pair.bobUri,
    description: sdp('alice'),
    delegate: { onAccepted: (dialog) => (sides.alice = dialog) },
  })
  pair.clock.advance(100)
  return { ...pair, sides, call }
}

test.group('Dialogs / session timers (RFC 4028)', () => {
  test('the refresher refreshes with UPDATE at half the interval and the call stays up', ({
    assert,
  }) => {
    const { clock, network, sides, aliceAddress, bobAddress } = timedCall(90)
    const ok = network.responses(200, 'INVITE', bobAddress)[0]
    assert.equal(ok.headers.get('session-expires'), '90;refresher=uac')
    assert.equal(ok.headers.get('require'), 'timer')
    assert.equal(sides.alice?.sessionTimer.state, SessionTimerState.Refreshing)
    assert.equal(sides.bob?.sessionTimer.state, SessionTimerState.Watching)

    clock.advance(200_000)
    const updates = network.requests('UPDATE', aliceAddress)
    assert.lengthOf(updates, 4, network.trace())
    assert.equal(updates[0].headers.get('session-expires'), '90;refresher=uac')
    assert.lengthOf(network.requests('BYE'), 0)
    assert.equal(sides.alice?.state, DialogState.Confirmed)
    assert.equal(sides.bob?.state, DialogState.Confirmed)
  })

  test('without refreshes the other side ends the session with BYE before it expires', ({
    assert,
  }) => {
    const { clock, network, sides, alice, bob, bobAddress } = timedCall(90)
    const answeredAt = network.times(
      (message) => (message as { status?: number }).status === 200
    )[0]
    network.drop((message) => (message as SipRequest).method === 'UPDATE', Infinity)
    clock.advance(120_000)
    const byes = network.events.filter((event) => (event.message as SipRequest).method === 'BYE')
    assert.lengthOf(byes, 1, network.trace())
    assert.equal(byes[0].from, bobAddress)
    // 90 s minus min(32 s, 90/3 s) = 60 s after the 2xx.
    assert.equal(byes[0].at - answeredAt, 60_000)
    assert.equal(sides.bob?.endReason, DialogEndReason.SessionExpired)
    assert.equal(sides.alice?.endReason, DialogEndReason.ByeReceived)
    clock.runAll()
    assert.equal(alice.dialogCount + bob.dialogCount, 0)
    assert.equal(alice.transactionCount + bob.transactionCount, 0)
  })

  test('an interval below our Min-SE gets 422, and the caller retries with the Min-SE', ({
    assert,
  }) => {
    const { network, call, sides, aliceAddress, bobAddress } = timedCall(90, 120)
    const rejected = network.responses(422, 'INVITE', bobAddress)
    assert.lengthOf(rejected, 1)
    assert.equal(rejected[0].headers.get('min-se'), '120')
    const invites = network.requests('INVITE', aliceAddress)
    assert.lengthOf(invites, 2)
    assert.equal(invites[1].cseq.sequence, invites[0].cseq.sequence + 1)
    assert.equal(invites[1].headers.get('session-expires'), '120')
    assert.equal(call.state, OutgoingInviteState.Accepted)
    assert.equal(sides.alice?.sessionTimer.intervalSeconds, 120)
  })
})
