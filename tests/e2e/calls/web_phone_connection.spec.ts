import { test } from '@japa/runner'
import { Inviter, SessionState, UserAgent } from 'sip.js'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import { completedCdr, startB2bua } from '#tests/support/calls'
import { forgedFingerprint, waitFor } from '#tests/e2e/media/media_peers'
import { WeriftDescriptionHandler, webPhoneAndDesk } from '#tests/support/sipjs_web_phone'

/**
 * A web phone whose media connection fails after its call was answered: the call ends at once
 * with its own cause, instead of by the media timeout (30 s) or never (a call on hold has none).
 * The browser is sip.js over the SIP WebSocket with a werift peer connection (ICE, DTLS-SRTP).
 */

test.group('Web phone media connection (sip.js with werift media, B2BUA)', (group) => {
  group.setup(async () => {
    await startB2bua()
  })

  test('a browser whose DTLS certificate does not match its SDP: the answered call ends at once (BYE both sides, CDR media_failed)', async ({
    assert,
    cleanup,
  }) => {
    const { alice, carol } = await webPhoneAndDesk(
      cleanup,
      { alice: '61', carol: '63' },
      { handler: () => new WeriftDescriptionHandler(forgedFingerprint) }
    )

    const inviter = new Inviter(alice.agent, UserAgent.makeURI(`sip:63@${configuredRealm()}`)!)
    let byeReason: string | undefined
    inviter.delegate = {
      onBye: (bye) => {
        byeReason = bye.request.getHeader('Reason')
        void bye.accept()
      },
    }
    await inviter.invite()
    // Our side of DTLS refuses the certificate: the leg is lost, the call ends with BYE both ways,
    // each saying why (RFC 3326; the web phone puts the text in words)
    const outcome = await carol.sipp.done
    assert.equal(outcome.code, 0, carol.sipp.describe(outcome))
    assert.match(
      carol.sipp.messages(),
      /^BYE sip:[^]*^Reason: Q\.850;cause=41;text="media_failed"\r?$/m
    )
    await waitFor(() => inviter.state === SessionState.Terminated, 5000, 'BYE at the web phone')
    assert.equal(byeReason, 'Q.850;cause=41;text="media_failed"')
    const record = await completedCdr()
    assert.equal(record.direction, 'internal')
    assert.isNotNull(record.answeredAt, 'Carol answered before the media failed')
    assert.equal(record.disconnectCause, 'media_failed')
    assert.equal(record.hungUpBy, 'system')
  }).timeout(40_000)
})
