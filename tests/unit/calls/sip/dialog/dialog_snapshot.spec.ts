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

test.group('Dialogs / snapshot for crash recovery', () => {
  test('a confirmed dialog, stored as JSON, is ended by another core with a BYE the peer accepts', async ({
    assert,
  }) => {
    const pair = createPhonePair()
    const { clock, network, alice, bob } = pair
    let bobDialog: SipDialog | undefined
    let bobEnded: DialogEndReason | undefined
    bob.setInviteHandler((invite) => {
      bobDialog = invite.accept({ description: sdp('bob') })
      bobDialog!.delegate.onTerminated = (reason) => (bobEnded = reason)
    })
    let aliceDialog: SipDialog | undefined
    alice.invite({
      uri: pair.bobUri,
      description: sdp('alice'),
      delegate: { onAccepted: (dialog) => (aliceDialog = dialog) },
    })
    await run(clock, 100)
    assert.exists(aliceDialog, network.trace())

    const stored: DialogSnapshot = JSON.parse(JSON.stringify(snapshotOf(aliceDialog!)))
    assert.include(stored, {
      callId: aliceDialog!.callId,
      localTag: aliceDialog!.localTag,
      remoteTag: aliceDialog!.remoteTag,
    })
    assert.include(stored, { protocol: 'udp', host: '192.0.2.2', port: 5060 })

    // The process that held the call is gone; its successor sends the BYE.
    const successor = createCore(network, '192.0.2.9', 'successor').core
    const bye = byeFor(stored)
    assert.equal(bye.cseq, stored.localSeq + 1)
    successor.request(bye)
    await run(clock, 100)
    assert.equal(bobEnded, DialogEndReason.ByeReceived, network.trace())
    assert.lengthOf(network.responses(200, 'BYE', pair.bobAddress), 1)
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
