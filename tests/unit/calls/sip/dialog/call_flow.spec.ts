import { test } from '@japa/runner'
import type SipRequest from '#sip/message/sip_request'
import SipUri from '#sip/message/sip_uri'
import type SipDialog from '#sip/dialog/sip_dialog'
import { DialogEndReason, DialogState } from '#sip/dialog/dialog_state'
import { OutgoingInviteState } from '#sip/ua/outgoing_invite'
import { IncomingInviteState } from '#sip/ua/incoming_invite'
import ScriptedPeer from '#tests/unit/calls/sip/support/scripted_peer'
import { createPhonePair, run, sdp } from '#tests/unit/calls/sip/support/phone_pair'

function isInvite(message: unknown): boolean {
  return (message as SipRequest).method === 'INVITE'
}

/** Bob rings at once and answers after `answerAfterMs`, remembering his dialog and the ACKs. */
function bobAnswers(pair: ReturnType<typeof createPhonePair>, answerAfterMs = 1000) {
  const bob: { dialog?: SipDialog; acks: SipRequest[]; state?: () => IncomingInviteState } = {
    acks: [],
  }
  pair.bob.setInviteHandler((invite) => {
    bob.state = () => invite.state
    invite.progress(180)
    pair.clock.setTimeout(() => {
      bob.dialog = invite.accept({ description: sdp('bob') })
      if (bob.dialog) {
        bob.dialog.delegate.onAck = (ack) => bob.acks.push(ack)
      }
    }, answerAfterMs)
  })
  return bob
}

test.group('Dialogs / a full call', () => {
  test('INVITE/180/200/ACK, re-INVITE and BYE from the caller, nothing left behind', async ({
    assert,
  }) => {
    const pair = createPhonePair()
    const { clock, network, alice, bob, aliceAddress, bobAddress } = pair
    const bobSide = bobAnswers(pair)
    let aliceDialog: SipDialog | undefined
    const progress: number[] = []
    const call = alice.invite({ uri: pair.bobUri, description: sdp('alice') })
    call.delegate = {
      onProgress: (response, dialog) => {
        progress.push(response.status)
        assert.equal(dialog?.state, DialogState.Early)
      },
      onAccepted: (dialog) => (aliceDialog = dialog),
    }

    clock.advance(2000)
    assert.equal(call.state, OutgoingInviteState.Accepted, network.trace())
    assert.deepEqual(progress, [180])
    assert.lengthOf(network.requests('INVITE', aliceAddress), 1)
    assert.lengthOf(network.responses(200, 'INVITE', bobAddress), 1)
    assert.lengthOf(network.requests('ACK', aliceAddress), 1)
    assert.lengthOf(bobSide.acks, 1)
    assert.equal(bobSide.state?.(), IncomingInviteState.Accepted)
    assert.equal(aliceDialog?.state, DialogState.Confirmed)
    assert.equal(bobSide.dialog?.state, DialogState.Confirmed)
    assert.isFalse(bobSide.dialog?.awaitingAck)
    assert.equal(aliceDialog?.remoteTarget.toString(), 'sip:bob@192.0.2.2:5060')
    assert.equal(bobSide.dialog?.remoteTarget.toString(), 'sip:alice@192.0.2.1:5060')
    assert.equal(aliceDialog?.remoteDescription?.body.toString(), sdp('bob').body.toString())
    assert.equal(bobSide.dialog?.remoteDescription?.body.toString(), sdp('alice').body.toString())
    const inviteCSeq = network.requests('INVITE', aliceAddress)[0].cseq.sequence
    assert.equal(network.requests('ACK', aliceAddress)[0].cseq.sequence, inviteCSeq)

    const reinvite = aliceDialog!.reinvite({ description: sdp('alice', 2) })
    await run(clock, 100)
    assert.equal((await reinvite).status, 200)
    const reinviteRequest = network.requests('INVITE', aliceAddress)[1]
    assert.equal(reinviteRequest.cseq.sequence, inviteCSeq + 1)
    assert.equal(reinviteRequest.uri.toString(), 'sip:bob@192.0.2.2:5060')
    assert.equal(reinviteRequest.to.tag, bobSide.dialog?.localTag)
    assert.lengthOf(network.requests('ACK', aliceAddress), 2)
    assert.lengthOf(bobSide.acks, 2)
    assert.equal(
      bobSide.dialog?.remoteDescription?.body.toString(),
      sdp('alice', 2).body.toString()
    )

    assert.isTrue(aliceDialog!.bye())
    clock.advance(100)
    assert.lengthOf(network.responses(200, 'BYE', bobAddress), 1)
    assert.equal(network.requests('BYE', aliceAddress)[0].cseq.sequence, inviteCSeq + 2)
    assert.equal(aliceDialog?.endReason, DialogEndReason.ByeSent)
    assert.equal(bobSide.dialog?.endReason, DialogEndReason.ByeReceived)
    assert.equal(alice.dialogCount + bob.dialogCount, 0)

    clock.runAll()
    assert.equal(alice.transactionCount + bob.transactionCount, 0)
    assert.equal(clock.pending, 0)
  })

  test('the other direction: offerless re-INVITE (offer in 200, answer in ACK) and BYE from the callee', async ({
    assert,
  }) => {
    const pair = createPhonePair()
    const { clock, network, alice, bob, aliceAddress, bobAddress } = pair
    let aliceDialog: SipDialog | undefined
    const aliceAcks: SipRequest[] = []
    alice.setInviteHandler((invite) => {
      aliceDialog = invite.accept({ description: sdp('alice') })
      aliceDialog!.delegate.onAck = (ack) => aliceAcks.push(ack)
    })
    let bobDialog: SipDialog | undefined
    bob.invite({
      uri: pair.aliceUri,
      description: sdp('bob'),
      delegate: { onAccepted: (dialog) => (bobDialog = dialog) },
    })
    clock.advance(500)
    assert.equal(bobDialog?.state, DialogState.Confirmed, network.trace())

    const reinvite = bobDialog!.reinvite({ answerForAck: () => sdp('bob', 3) })
    await run(clock, 100)
    const response = await reinvite
    assert.equal(response.status, 200)
    assert.equal(response.body.toString(), sdp('alice').body.toString())
    const ack = network.requests('ACK', bobAddress)[1]
    assert.equal(ack.body.toString(), sdp('bob', 3).body.toString())
    assert.lengthOf(aliceAcks, 2)
    assert.equal(aliceDialog?.remoteDescription?.body.toString(), sdp('bob', 3).body.toString())

    assert.isTrue(aliceDialog!.bye())
    clock.advance(100)
    const bye = network.requests('BYE', aliceAddress)[0]
    assert.equal(bye.uri.toString(), 'sip:bob@192.0.2.2:5060')
    assert.equal(bye.from.tag, aliceDialog?.localTag)
    assert.equal(bobDialog?.endReason, DialogEndReason.ByeReceived)
    clock.runAll()
    assert.equal(alice.dialogCount + bob.dialogCount, 0)
    assert.equal(alice.transactionCount + bob.transactionCount, 0)
  })

  test('UPDATE with an offer in a confirmed dialog (RFC 3311)', async ({ assert }) => {
    const pair = createPhonePair()
    const { clock, alice } = pair
    const bobSide = bobAnswers(pair, 0)
    let aliceDialog: SipDialog | undefined
    alice.invite({
      uri: pair.bobUri,
      description: sdp('alice'),
      delegate: { onAccepted: (dialog) => (aliceDialog = dialog) },
    })
    clock.advance(200)
    bobSide.dialog!.delegate.onUpdate = (update) =>
      update.respond(200, { description: sdp('bob', 4) })
    const update = aliceDialog!.update({ description: sdp('alice', 4) })
    await run(clock, 100)
    const response = await update
    assert.equal(response.status, 200)
    assert.equal(aliceDialog?.remoteDescription?.body.toString(), sdp('bob', 4).body.toString())
    assert.equal(
      bobSide.dialog?.remoteDescription?.body.toString(),
      sdp('alice', 4).body.toString()
    )
    assert.include(response.headers.get('contact') ?? '', 'sip:bob@192.0.2.2')
  })

  test('a dropped first INVITE is retransmitted after T1 and the call completes', ({ assert }) => {
    const pair = createPhonePair()
    const { clock, network, alice, aliceAddress } = pair
    bobAnswers(pair, 100)
    network.drop(isInvite)
    const call = alice.invite({ uri: pair.bobUri, description: sdp('alice') })
    clock.advance(2000)
    assert.equal(call.state, OutgoingInviteState.Accepted, network.trace())
    assert.deepEqual(
      network.times((message) => isInvite(message)),
      [0, 500]
    )
    assert.lengthOf(network.requests('ACK', aliceAddress), 1)
  })

  test('a dropped first 200 is retransmitted by the callee and acknowledged', ({ assert }) => {
    const pair = createPhonePair()
    const { clock, network, alice, bob, aliceAddress, bobAddress } = pair
    const bobSide = bobAnswers(pair, 100)
    network.drop((message) => (message as { status?: number }).status === 200)
    const call = alice.invite({ uri: pair.bobUri, description: sdp('alice') })
    clock.advance(2000)
    assert.equal(call.state, OutgoingInviteState.Accepted, network.trace())
    const okTimes = network.times((message) => (message as { status?: number }).status === 200)
    assert.deepEqual(okTimes, [110, 610])
    assert.lengthOf(network.requests('ACK', aliceAddress), 1)
    assert.isFalse(bobSide.dialog?.awaitingAck)
    assert.equal(alice.dialogCount, 1)
    assert.equal(bob.dialogCount, 1)
    assert.lengthOf(network.responses(200, 'INVITE', bobAddress), 2)
  })

  test('a BYE asked for while the 2xx waits for its ACK goes out after the ACK, with its headers (a Reason)', ({
    assert,
  }) => {
    const pair = createPhonePair()
    const { clock, network, alice, bob, bobAddress } = pair
    const bobSide = bobAnswers(pair, 0)
    network.drop((message) => (message as SipRequest).method === 'ACK')
    alice.invite({ uri: pair.bobUri, description: sdp('alice') })
    clock.advance(20)
    assert.isTrue(bobSide.dialog?.awaitingAck, network.trace())
    const reason = 'Q.850;cause=41;text="media_failed"'
    assert.isTrue(bobSide.dialog!.bye([['Reason', reason]]))
    assert.lengthOf(network.requests('BYE', bobAddress), 0)
    clock.advance(2000)
    const byes = network.requests('BYE', bobAddress)
    assert.lengthOf(byes, 1, network.trace())
    assert.equal(byes[0].headers.get('Reason'), reason)
    clock.runAll()
    assert.equal(alice.dialogCount + bob.dialogCount, 0)
  })

  test('a 2xx never acknowledged is retransmitted for 64*T1, then the callee sends BYE', ({
    assert,
  }) => {
    const pair = createPhonePair()
    const { clock, network, alice, bob, bobAddress } = pair
    const bobSide = bobAnswers(pair, 0)
    network.drop((message) => (message as SipRequest).method === 'ACK', Infinity)
    alice.invite({ uri: pair.bobUri, description: sdp('alice') })
    clock.advance(40_000)
    const okTimes = network.times(
      (message) =>
        (message as { status?: number }).status === 200 &&
        (message as SipRequest).cseq.method === 'INVITE'
    )
    assert.deepEqual(okTimes.slice(0, 5), [10, 510, 1510, 3510, 7510])
    assert.equal(bobSide.dialog?.endReason, DialogEndReason.AckTimeout)
    assert.lengthOf(network.requests('BYE', bobAddress), 1)
    clock.runAll()
    assert.equal(alice.dialogCount + bob.dialogCount, 0)
    assert.equal(alice.transactionCount + bob.transactionCount, 0)
  })
})

test.group('Dialogs / route sets (RFC 3261 12.2.1.1)', () => {
  function callThroughProxies(lr: boolean) {
    const pair = createPhonePair()
    const carrier = new ScriptedPeer(pair.network.endpoint('192.0.2.9'))
    const proxy = new ScriptedPeer(pair.network.endpoint('192.0.2.8'))
    let dialog: SipDialog | undefined
    pair.alice.invite({
      uri: SipUri.parse('sip:+4930123@192.0.2.9'),
      description: sdp('alice'),
      delegate: { onAccepted: (accepted) => (dialog = accepted) },
    })
    pair.clock.advance(20)
    const param = lr ? ';lr' : ''
    carrier.respond('INVITE', 200, {
      toTag: 'carrier1',
      headers: [
        ['Record-Route', `<sip:192.0.2.7${param}>`],
        ['Record-Route', `<sip:192.0.2.8${param}>`],
        ['Contact', '<sip:carrier@192.0.2.9>'],
      ],
      body: sdp('carrier').body,
      contentType: 'application/sdp',
    })
    pair.clock.advance(20)
    return { ...pair, proxy, dialog }
  }

  test('loose routing: Request-URI is the remote target, Route is the reversed Record-Route', ({
    assert,
  }) => {
    const { proxy, dialog, clock } = callThroughProxies(true)
    assert.equal(dialog?.state, DialogState.Confirmed)
    const ack = proxy.last('ACK').request
    assert.equal(ack.uri.toString(), 'sip:carrier@192.0.2.9')
    assert.deepEqual(ack.headers.getAll('route'), ['<sip:192.0.2.8;lr>', '<sip:192.0.2.7;lr>'])
    dialog!.bye()
    clock.advance(20)
    const bye = proxy.last('BYE').request
    assert.equal(bye.uri.toString(), 'sip:carrier@192.0.2.9')
    assert.deepEqual(bye.headers.getAll('route'), ['<sip:192.0.2.8;lr>', '<sip:192.0.2.7;lr>'])
  })

  test('strict routing: the first route becomes the Request-URI, the remote target the last Route', ({
    assert,
  }) => {
    const { proxy, dialog, clock } = callThroughProxies(false)
    dialog!.bye()
    clock.advance(20)
    const bye = proxy.last('BYE').request
    assert.equal(bye.uri.toString(), 'sip:192.0.2.8')
    assert.deepEqual(bye.headers.getAll('route'), ['<sip:192.0.2.7>', '<sip:carrier@192.0.2.9>'])
  })
})
