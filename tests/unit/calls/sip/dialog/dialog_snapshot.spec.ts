import { test } from '@japa/runner'
import type SipDialog from '#sip/dialog/sip_dialog'
import { DialogEndReason } from '#sip/dialog/dialog_state'
import {
  byeFor,
  snapshotOf,
  snapshotReachable,
  type DialogSnapshot,
} from '#sip/dialog/dialog_snapshot'
import NameAddress from '#sip/message/name_address'
import SipUri from '#sip/message/sip_uri'
import { createCore, createPhonePair, run, sdp } from '#tests/unit/calls/sip/support/phone_pair'

/** Alice calls Bob, who answers: the pair, Alice's dialog, and how Bob's dialog ended. */
async function answeredCall() {
  const pair = createPhonePair()
  const ended: { reason?: DialogEndReason } = {}
  pair.bob.setInviteHandler((invite) => {
    const dialog = invite.accept({ description: sdp('bob') })
    dialog!.delegate.onTerminated = (reason) => (ended.reason = reason)
  })
  let aliceDialog: SipDialog | undefined
  pair.alice.invite({
    uri: pair.bobUri,
    description: sdp('alice'),
    delegate: { onAccepted: (dialog) => (aliceDialog = dialog) },
  })
  await run(pair.clock, 100)
  if (!aliceDialog) throw new Error(`not answered:\n${pair.network.trace()}`)
  return { pair, aliceDialog, ended }
}

test.group('Dialogs / snapshot for crash recovery', () => {
  test('a confirmed dialog, stored as JSON, is ended by another core with a BYE the peer accepts', async ({
    assert,
  }) => {
    const { pair, aliceDialog, ended } = await answeredCall()
    const { clock, network } = pair

    const stored: DialogSnapshot = JSON.parse(JSON.stringify(snapshotOf(aliceDialog)))
    assert.include(stored, {
      callId: aliceDialog.callId,
      localTag: aliceDialog.localTag,
      remoteTag: aliceDialog.remoteTag,
    })
    assert.include(stored, { protocol: 'udp', host: '192.0.2.2', port: 5060 })

    // The process that held the call is gone; its successor sends the BYE.
    const successor = createCore(network, '192.0.2.9', 'successor').core
    const bye = byeFor(stored)
    assert.equal(bye.cseq, stored.localSeq + 1)
    successor.request(bye)
    await run(clock, 100)
    assert.equal(ended.reason, DialogEndReason.ByeReceived, network.trace())
    assert.lengthOf(network.responses(200, 'BYE', pair.bobAddress), 1)
  })

  test('requests after the snapshot move its CSeq on (not the BYE): a BYE from the stale one is refused, from the followed one accepted', async ({
    assert,
  }) => {
    const { pair, aliceDialog, ended } = await answeredCall()
    const { clock, network } = pair
    const stale: DialogSnapshot = JSON.parse(JSON.stringify(snapshotOf(aliceDialog)))
    const followed = { ...stale }
    const told: number[] = []
    aliceDialog.onLocalSequence = (sequence) => {
      told.push(sequence)
      followed.localSeq = sequence
    }

    // A hold and a resume after the snapshot: two re-INVITEs, each with the next CSeq
    void aliceDialog.reinvite({ description: sdp('alice', 2) })
    await run(clock, 100)
    void aliceDialog.reinvite({ description: sdp('alice', 3) })
    await run(clock, 100)
    assert.deepEqual(told, [stale.localSeq + 1, stale.localSeq + 2])

    const successor = createCore(network, '192.0.2.9', 'successor').core
    successor.request(byeFor(stale))
    await run(clock, 100)
    assert.isUndefined(ended.reason, 'a CSeq below the last one is out of order')
    assert.lengthOf(network.responses(500, 'BYE', pair.bobAddress), 1, network.trace())

    successor.request(byeFor(followed))
    await run(clock, 100)
    assert.equal(ended.reason, DialogEndReason.ByeReceived, network.trace())

    // The dialog's own BYE ends it: nothing to keep, so nobody is told
    const before = told.length
    const second = await answeredCall()
    second.aliceDialog.onLocalSequence = (sequence) => told.push(sequence)
    second.aliceDialog.bye()
    await run(second.pair.clock, 100)
    assert.lengthOf(told, before)
    assert.equal(second.ended.reason, DialogEndReason.ByeReceived)
  })

  test("a browser on this node's WebSocket cannot be reached from a snapshot; one behind a front and a phone can", ({
    assert,
  }) => {
    const dialog = (target: string, routes: string[] = []) =>
      ({
        remoteTarget: SipUri.parse(target),
        routeSet: routes.map((route) => NameAddress.parse(route)),
      }) as unknown as SipDialog
    assert.isFalse(snapshotReachable(dialog('sip:k3v9@d7x1.invalid;transport=ws')))
    assert.isFalse(snapshotReachable(dialog('sip:k3v9@d7x1.invalid;transport=wss')))
    assert.isTrue(
      snapshotReachable(dialog('sip:k3v9@d7x1.invalid;transport=ws', ['<sip:127.0.0.1:5060;lr>'])),
      'through the front that record-routed it'
    )
    assert.isTrue(snapshotReachable(dialog('sip:desk@127.0.0.2:5062')))
    assert.isTrue(snapshotReachable(dialog('sip:desk@127.0.0.2:5062;transport=tcp')))
  })
})
