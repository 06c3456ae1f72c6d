import { test } from '@japa/runner'
import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import type IncomingInvite from '#sip/ua/incoming_invite'
import { IncomingInviteState } from '#sip/ua/incoming_invite'
import { OutgoingInviteState } from '#sip/ua/outgoing_invite'
import { DialogEndReason } from '#sip/dialog/dialog_state'
import { createPhonePair, sdp } from '#tests/unit/calls/sip/support/phone_pair'

test.group('Dialogs / CANCEL', () => {
  test('CANCEL before the answer: 200 to the CANCEL, 487 to the INVITE, nothing left behind', ({
    assert,
  }) => {
    const { clock, network, alice, bob, aliceAddress, bobAddress, bobUri } = createPhonePair()
    let incoming: IncomingInvite | undefined
    let bobCanceled = 0
    bob.setInviteHandler((invite) => {
      incoming = invite
      invite.delegate.onCanceled = () => bobCanceled++
      invite.progress(180)
    })
    const canceled: SipResponse[] = []
    const call = alice.invite({
      uri: bobUri,
      description: sdp('alice'),
      delegate: { onCanceled: (response) => canceled.push(response) },
    })
    clock.advance(100)
    assert.equal(alice.dialogCount, 1, 'the 180 made an early dialog')
    assert.equal(bob.dialogCount, 1)
    assert.isTrue(call.cancel())
    clock.advance(100)

    const cancel = network.requests('CANCEL', aliceAddress)[0]
    const invite = network.requests('INVITE', aliceAddress)[0]
    assert.equal(cancel.topVia.branch, invite.topVia.branch)
    assert.equal(cancel.cseq.toString(), `${invite.cseq.sequence} CANCEL`)
    assert.lengthOf(network.responses(200, 'CANCEL', bobAddress), 1)
    assert.lengthOf(network.responses(487, 'INVITE', bobAddress), 1)
    assert.lengthOf(network.requests('ACK', aliceAddress), 1, 'the 487 is acknowledged')
    assert.equal(call.state, OutgoingInviteState.Canceled)
    assert.deepEqual(
      canceled.map((response) => response.status),
      [487]
    )
    assert.equal(incoming?.state, IncomingInviteState.Canceled)
    assert.equal(bobCanceled, 1)
    assert.isUndefined(incoming?.accept({ description: sdp('bob') }), 'too late to answer')
    assert.equal(alice.dialogCount + bob.dialogCount, 0)

    clock.runAll()
    assert.equal(alice.transactionCount + bob.transactionCount, 0)
    assert.equal(clock.pending, 0)
  })

  test('a CANCEL nobody answers leaves no timer once the core closes (shutdown with a vanished peer)', ({
    assert,
  }) => {
    const { clock, network, alice, bob, bobUri } = createPhonePair()
    bob.setInviteHandler((invite) => invite.progress(180))
    const call = alice.invite({ uri: bobUri, description: sdp('alice') })
    clock.advance(100)
    // The peer vanishes: everything it would receive from now on is lost.
    network.drop(() => true, 1000)
    assert.isTrue(call.cancel())
    clock.advance(100)
    bob.close()
    alice.close()
    assert.equal(alice.transactionCount + alice.dialogCount, 0)
    // Before, the 64*T1 guard of the CANCEL outlived the core and held a process for 32 s.
    assert.equal(clock.pending, 0)
  })

  test('CANCEL waits for a provisional response before it is sent (RFC 3261 9.1)', ({ assert }) => {
    const { clock, network, alice, bob, aliceAddress, bobUri } = createPhonePair()
    let incoming: IncomingInvite | undefined
    bob.setInviteHandler((invite) => (incoming = invite))
    const call = alice.invite({ uri: bobUri, description: sdp('alice') })
    call.cancel()
    assert.lengthOf(network.requests('CANCEL', aliceAddress), 0)
    clock.advance(250)
    assert.lengthOf(network.requests('CANCEL', aliceAddress), 1, 'sent after the 100 Trying')
    clock.runAll()
    assert.equal(incoming?.state, IncomingInviteState.Canceled)
    assert.equal(
      alice.transactionCount + bob.transactionCount + alice.dialogCount + bob.dialogCount,
      0
    )
  })

  test('CANCEL crossing a 200: the late 200 gets ACK then BYE, nothing left behind', ({
    assert,
  }) => {
    const { clock, network, alice, bob, aliceAddress, bobAddress, bobUri } = createPhonePair()
    const bobEnds: DialogEndReason[] = []
    bob.setInviteHandler((invite) => {
      invite.progress(180)
      clock.setTimeout(() => {
        const dialog = invite.accept({ description: sdp('bob') })
        dialog!.delegate.onTerminated = (reason) => bobEnds.push(reason)
      }, 1000)
    })
    const canceled: SipResponse[] = []
    const call = alice.invite({
      uri: bobUri,
      description: sdp('alice'),
      delegate: { onCanceled: (response) => canceled.push(response) },
    })
    // Cancel so that the CANCEL leaves as Bob's 200 leaves: the two cross on the wire.
    clock.advance(1000)
    call.cancel()
    clock.advance(200)

    assert.lengthOf(network.requests('CANCEL', aliceAddress), 1)
    assert.lengthOf(network.responses(200, 'CANCEL', bobAddress), 1)
    assert.lengthOf(
      network.responses(487, 'INVITE', bobAddress),
      0,
      'the INVITE was answered already'
    )
    const sequence: string[] = network.events
      .filter((event) => event.from === aliceAddress)
      .map((event) => (event.message as SipRequest).method)
    assert.deepEqual(sequence, ['INVITE', 'CANCEL', 'ACK', 'BYE'])
    assert.equal(call.state, OutgoingInviteState.Canceled)
    assert.deepEqual(
      canceled.map((response) => response.status),
      [200]
    )
    assert.deepEqual(bobEnds, [DialogEndReason.ByeReceived])

    clock.runAll()
    assert.equal(alice.dialogCount + bob.dialogCount, 0)
    assert.equal(alice.transactionCount + bob.transactionCount, 0)
    assert.equal(clock.pending, 0)
  })

  test('CANCEL for no transaction gets 481', ({ assert }) => {
    const { clock, network, alice, bob, bobAddress, bobUri } = createPhonePair()
    bob.setInviteHandler((invite) => invite.progress(180))
    const call = alice.invite({ uri: bobUri, description: sdp('alice') })
    clock.advance(100)
    // Bob forgets everything, as after a restart: the CANCEL finds no INVITE.
    bob.close()
    call.cancel()
    clock.advance(100)
    assert.lengthOf(network.responses(481, 'CANCEL', bobAddress), 1)
  })
})
