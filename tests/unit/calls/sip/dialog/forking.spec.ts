import { test } from '@japa/runner'
import SipUri from '#sip/message/sip_uri'
import type SipDialog from '#sip/dialog/sip_dialog'
import { DialogEndReason, DialogState } from '#sip/dialog/dialog_state'
import { OutgoingInviteState } from '#sip/ua/outgoing_invite'
import ScriptedPeer from '#tests/unit/calls/sip/support/scripted_peer'
import { createPhonePair, sdp } from '#tests/unit/calls/sip/support/phone_pair'

test.group('Dialogs / forking', () => {
  test('two early dialogs; the first 2xx confirms one, a later 2xx on the other gets ACK and BYE', ({
    assert,
  }) => {
    const { clock, network, alice, aliceAddress } = createPhonePair()
    // A forking proxy: one INVITE, answers from two phones with different To tags and Contacts.
    const proxy = new ScriptedPeer(network.endpoint('192.0.2.9'))
    const early: SipDialog[] = []
    let accepted: SipDialog | undefined
    const call = alice.invite({
      uri: SipUri.parse('sip:bob@192.0.2.9'),
      description: sdp('alice'),
      delegate: {
        onProgress: (_response, dialog) => dialog && early.push(dialog),
        onAccepted: (dialog) => (accepted = dialog),
      },
    })
    clock.advance(20)
    const forkA = {
      toTag: 'fork-a',
      headers: [['Contact', '<sip:bob@192.0.2.31>']] as Array<[string, string]>,
    }
    const forkB = {
      toTag: 'fork-b',
      headers: [['Contact', '<sip:bob@192.0.2.32>']] as Array<[string, string]>,
    }
    proxy.respond('INVITE', 180, forkA)
    proxy.respond('INVITE', 183, forkB)
    clock.advance(20)
    assert.lengthOf(early, 2)
    assert.deepEqual(
      early.map((dialog) => dialog.remoteTag),
      ['fork-a', 'fork-b']
    )
    assert.equal(alice.dialogCount, 2)
    assert.lengthOf(call.earlyDialogs, 2)

    proxy.respond('INVITE', 200, { ...forkB, body: sdp('b').body, contentType: 'application/sdp' })
    clock.advance(20)
    assert.equal(call.state, OutgoingInviteState.Accepted)
    assert.strictEqual(accepted, early[1])
    assert.equal(early[1].state, DialogState.Confirmed)
    assert.equal(early[0].state, DialogState.Early, 'the other fork may still answer')

    proxy.respond('INVITE', 200, { ...forkA, body: sdp('a').body, contentType: 'application/sdp' })
    clock.advance(20)
    const acks = network.requests('ACK', aliceAddress)
    assert.deepEqual(
      acks.map((ack) => ack.to.tag),
      ['fork-b', 'fork-a']
    )
    assert.deepEqual(
      acks.map((ack) => ack.uri.host),
      ['192.0.2.32', '192.0.2.31']
    )
    const byes = network.requests('BYE', aliceAddress)
    assert.deepEqual(
      byes.map((bye) => bye.to.tag),
      ['fork-a']
    )
    assert.equal(early[0].endReason, DialogEndReason.ByeSent)
    assert.equal(early[1].state, DialogState.Confirmed)
    assert.equal(alice.dialogCount, 1)

    // The second fork's 2xx retransmitted: its ACK again, no second BYE.
    proxy.respond('INVITE', 200, { ...forkA })
    clock.advance(20)
    assert.lengthOf(network.requests('ACK', aliceAddress), 3)
    assert.lengthOf(network.requests('BYE', aliceAddress), 1)
  })

  test('early dialogs that never get a 2xx end with the INVITE transaction', ({ assert }) => {
    const { clock, network, alice } = createPhonePair()
    const proxy = new ScriptedPeer(network.endpoint('192.0.2.9'))
    alice.invite({ uri: SipUri.parse('sip:bob@192.0.2.9'), description: sdp('alice') })
    clock.advance(20)
    proxy.respond('INVITE', 180, {
      toTag: 'fork-a',
      headers: [['Contact', '<sip:bob@192.0.2.31>']],
    })
    proxy.respond('INVITE', 180, {
      toTag: 'fork-b',
      headers: [['Contact', '<sip:bob@192.0.2.32>']],
    })
    clock.advance(20)
    assert.equal(alice.dialogCount, 2)
    proxy.respond('INVITE', 200, {
      toTag: 'fork-b',
      headers: [['Contact', '<sip:bob@192.0.2.32>']],
    })
    clock.advance(20)
    assert.equal(alice.dialogCount, 2)
    clock.advance(32_000)
    assert.equal(alice.dialogCount, 1, 'Timer M ended the unanswered early dialog')
    assert.equal(alice.transactionCount, 0)
  })
})
