import { test } from '@japa/runner'
import { Inviter, UserAgent, type Session } from 'sip.js'
import type CallRecord from '#calls/models/call_record'
import InternalLineService from '#calls/internal/internal_line_service'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import { E2EE_CONTENT_TYPE } from '#calls/b2bua/end_to_end_encryption'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { completedCdr, startB2bua } from '#tests/support/calls'
import { tapRelayedMedia } from '#tests/support/e2ee'
import { sipStack, within } from '#tests/support/sip_test_stack'
import { desk } from '#tests/e2e/calls/desk_phones'
import { BROWSER_PT, waitFor } from '#tests/e2e/media/media_peers'
import {
  established,
  listen,
  webPhoneAndDesk,
  webPhones,
  type WebPhone,
} from '#tests/support/sipjs_web_phone'

/**
 * Issue 22 over the real path short of Chromium: two sip.js user agents over the SIP WebSocket,
 * each with a werift peer connection as its browser media (ICE, DTLS-SRTP to our relay), call
 * each other through the B2BUA. The role header arrives on the wire, the key exchange INFO is
 * relayed unchanged, both confirms mark the CDR, and the relay tap sees the frames the two sent.
 */

/** Sends a key exchange INFO in the session; resolves with the status it got. */
function sendInfo(session: Session, body: Record<string, unknown>): Promise<number> {
  return new Promise((resolve) => {
    void session.info({
      requestOptions: {
        body: {
          contentDisposition: 'render',
          contentType: E2EE_CONTENT_TYPE,
          content: JSON.stringify(body),
        },
      },
      requestDelegate: {
        onAccept: (response) => resolve(response.message.statusCode ?? 0),
        onReject: (response) => resolve(response.message.statusCode ?? 0),
      },
    })
  })
}

test.group('E2EE signalling over the SIP WebSocket (sip.js with werift media, B2BUA)', (group) => {
  group.setup(async () => {
    await startB2bua()
  })

  test('web phone to web phone: roles on the wire, key parts relayed as sent, confirms on the CDR, the tap sees the frames', async ({
    assert,
    cleanup,
  }) => {
    const stack = await sipStack()
    const deadline = Date.now() + 5000
    while (!stack.layer.webSocket?.attached && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20))
    const company = await makeCompany('active')
    const admin = await makeUser('admin', company)
    const [aliceDesk, bobDesk] = [await desk(company), await desk(company)]
    const lines = new InternalLineService()
    await lines.setExtension(company, aliceDesk.user.id, '31', { actor: admin, ip: null })
    await lines.setExtension(company, bobDesk.user.id, '32', { actor: admin, ip: null })

    const tap = await tapRelayedMedia()
    cleanup(async () => tap.stop())
    const webPhone = webPhones(cleanup)
    const alice = await webPhone(aliceDesk)
    const bob = await webPhone(bobDesk)

    const inviter = new Inviter(alice.agent, UserAgent.makeURI(`sip:32@${configuredRealm()}`)!)
    listen(alice, inviter)
    let accepted: string | undefined
    const answering = waitFor(() => bob.invitations.length === 1, 10_000, 'Bob’s INVITE').then(() =>
      bob.invitations[0].accept()
    )
    await inviter.invite({
      requestDelegate: {
        onAccept: (response) => (accepted = response.message.getHeader('X-FluffyCall-E2EE')),
      },
    })
    await answering
    await within(established(inviter), 10_000, 'call established')
    const invitation = bob.invitations[0]
    assert.equal(invitation.request.getHeader('X-FluffyCall-E2EE'), 'responder;epoch=1')
    assert.equal(accepted, 'initiator;epoch=1')

    const commit = { epoch: 1, type: 'commit', hash: 'c'.repeat(43) }
    const dhpart = { epoch: 1, type: 'dhpart', pk: 'B' + 'b'.repeat(86) }
    assert.equal(await sendInfo(inviter, commit), 200)
    assert.equal(await sendInfo(invitation, dhpart), 200)
    await waitFor(() => bob.infos.length === 1 && alice.infos.length === 1, 5000, 'relayed INFO')
    assert.equal(bob.infos[0], JSON.stringify(commit))
    assert.equal(alice.infos[0], JSON.stringify(dhpart))
    assert.equal(await sendInfo(inviter, { epoch: 1, type: 'confirm' }), 200)
    assert.equal(await sendInfo(invitation, { epoch: 1, type: 'confirm' }), 200)
    assert.equal(await sendInfo(inviter, { epoch: 1, type: 'dhpart', pk: 42 }), 400)

    // What the relay forwards between the two, after SRTP: the frames as the browsers sent them
    const aliceMedia = alice.handlers[0].browser
    const bobMedia = bob.handlers[0].browser
    await Promise.all([aliceMedia.connected(), bobMedia.connected()])
    const frame = Buffer.from(Array.from({ length: 80 }, (_, i) => (i * 29 + 7) & 0xff))
    for (let i = 0; i < 30 && !tap.packets.some((p) => p.payload.equals(frame)); i++) {
      // Both offered Opus first: the call runs on it (no transcoding ever)
      await aliceMedia.send(BROWSER_PT.opus, frame)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const seen = tap.packets.find((packet) => packet.payload.equals(frame))
    assert.exists(seen, 'the tap saw Alice’s frame after SRTP decryption')
    assert.equal(seen!.direction, 'aToB')
    assert.equal(seen!.payloadType, BROWSER_PT.opus)

    await inviter.bye()
    const record: CallRecord = await completedCdr()
    assert.equal(record.direction, 'internal')
    assert.isTrue(record.endToEndEncrypted)
    assert.deepEqual(alice.infos.length + bob.infos.length, 2, 'confirms are not passed on')
  }).timeout(40_000)

  test('a blind transfer to another web phone: a new pairing in epoch 2, the caller initiates, the key exchange goes to the new party', async ({
    assert,
    cleanup,
  }) => {
    const company = await makeCompany('active')
    const admin = await makeUser('admin', company)
    const desks = [await desk(company), await desk(company), await desk(company)]
    const lines = new InternalLineService()
    for (const [index, phone] of desks.entries())
      await lines.setExtension(company, phone.user.id, String(51 + index), {
        actor: admin,
        ip: null,
      })
    const webPhone = webPhones(cleanup)
    const [alice, bob, carol] = [
      await webPhone(desks[0]),
      await webPhone(desks[1]),
      await webPhone(desks[2]),
    ]
    const answer = (phone: WebPhone) =>
      waitFor(() => phone.invitations.length === 1, 10_000, 'INVITE').then(() =>
        phone.invitations[0].accept()
      )

    const inviter = new Inviter(alice.agent, UserAgent.makeURI(`sip:52@${configuredRealm()}`)!)
    listen(alice, inviter)
    const bobAnswers = answer(bob)
    await inviter.invite()
    await bobAnswers
    await within(established(inviter), 10_000, 'call established')

    // Bob refers Alice to Carol (53); Carol's web phone answers.
    const carolAnswers = answer(carol)
    await bob.invitations[0].refer(UserAgent.makeURI(`sip:53@${configuredRealm()}`)!)
    await carolAnswers
    assert.equal(carol.invitations[0].request.getHeader('X-FluffyCall-E2EE'), 'responder;epoch=2')
    await waitFor(
      () => alice.reinvites.includes('initiator;epoch=2'),
      10_000,
      'Alice’s re-INVITE for the new pairing'
    )
    assert.isTrue(
      alice.reinvites.every((header) => header !== undefined),
      'every re-INVITE to a browser has the header'
    )

    const commit = { epoch: 2, type: 'commit', hash: 'd'.repeat(43) }
    assert.equal(await sendInfo(inviter, commit), 200)
    await waitFor(() => carol.infos.length === 1, 5000, 'the commit at Carol')
    assert.equal(carol.infos[0], JSON.stringify(commit))
    assert.lengthOf(bob.infos, 0, 'the transferor hears nothing of it')
    assert.equal(await sendInfo(inviter, { epoch: 1, type: 'commit', hash: 'e' }), 400)
    await inviter.bye()
  }).timeout(40_000)

  test('web phone to a sipp desk phone: no role header either way, a key exchange INFO gets 403', async ({
    assert,
    cleanup,
  }) => {
    const { alice, carol } = await webPhoneAndDesk(cleanup, { alice: '41', carol: '43' })

    const inviter = new Inviter(alice.agent, UserAgent.makeURI(`sip:43@${configuredRealm()}`)!)
    listen(alice, inviter)
    let accepted: string | undefined = 'not answered'
    await inviter.invite({
      requestDelegate: {
        onAccept: (response) => (accepted = response.message.getHeader('X-FluffyCall-E2EE')),
      },
    })
    await within(established(inviter), 10_000, 'call established')
    assert.isUndefined(accepted)
    assert.equal(await sendInfo(inviter, { epoch: 1, type: 'commit', hash: 'abc' }), 403)
    await inviter.bye()
    const outcome = await carol.sipp.done
    assert.equal(outcome.code, 0, carol.sipp.describe(outcome))
    const seenByCarol = carol.sipp.messages()
    assert.include(seenByCarol, 'INVITE sip:')
    assert.notInclude(seenByCarol, 'X-FluffyCall-E2EE')
    assert.notInclude(seenByCarol, 'INFO sip:')
    const record: CallRecord = await completedCdr()
    assert.isFalse(record.endToEndEncrypted)
  }).timeout(40_000)
})
