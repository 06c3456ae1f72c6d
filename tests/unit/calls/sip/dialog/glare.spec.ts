import { test } from '@japa/runner'
import type SipRequest from '#sip/message/sip_request'
import type SipDialog from '#sip/dialog/sip_dialog'
import { DialogState } from '#sip/dialog/dialog_state'
import { glareRetryDelay } from '#sip/dialog/glare_retry_delay'
import { createPhonePair, run, sdp } from '#tests/unit/calls/sip/support/phone_pair'

function confirmedCall() {
  const pair = createPhonePair()
  let bobDialog: SipDialog | undefined
  let aliceDialog: SipDialog | undefined
  pair.bob.setInviteHandler((invite) => (bobDialog = invite.accept({ description: sdp('bob') })))
  pair.alice.invite({
    uri: pair.bobUri,
    description: sdp('alice'),
    delegate: { onAccepted: (dialog) => (aliceDialog = dialog) },
  })
  pair.clock.advance(100)
  if (!aliceDialog || !bobDialog) {
    throw new Error(`the call did not connect:\n${pair.network.trace()}`)
  }
  return { ...pair, aliceDialog, bobDialog }
}

test.group('Dialogs / glare (RFC 3261 14.1)', () => {
  test('the owner of the Call-ID waits 2.1-4 s, the other side 0-2 s, in 10 ms steps', ({
    assert,
  }) => {
    assert.equal(
      glareRetryDelay(true, () => 0),
      2100
    )
    assert.equal(
      glareRetryDelay(true, () => 0.999999),
      4000
    )
    assert.equal(
      glareRetryDelay(false, () => 0),
      0
    )
    assert.equal(
      glareRetryDelay(false, () => 0.999999),
      2000
    )
    assert.equal(glareRetryDelay(true, () => 0.5) % 10, 0)
  })

  test('crossing re-INVITEs both get 491 and are retried after the RFC delays', async ({
    assert,
  }) => {
    const { clock, network, aliceDialog, bobDialog, aliceAddress, bobAddress } = confirmedCall()
    const start = clock.now()
    const fromAlice = aliceDialog.reinvite({ description: sdp('alice', 2) })
    const fromBob = bobDialog.reinvite({ description: sdp('bob', 2) })
    await run(clock, 5000)

    assert.equal((await fromAlice).status, 200, network.trace())
    assert.equal((await fromBob).status, 200)
    assert.lengthOf(network.responses(491, 'INVITE', aliceAddress), 1)
    assert.lengthOf(network.responses(491, 'INVITE', bobAddress), 1)
    const reinviteTimes = (address: string) =>
      network.events
        .filter(
          (event) => event.from === address && (event.message as SipRequest).method === 'INVITE'
        )
        .map((event) => event.at - start)
        .filter((at) => at >= 0)
    // 491 arrives after 20 ms; random 0.5 gives 1000 ms (Bob) and 3050 ms (Alice, the caller).
    assert.deepEqual(reinviteTimes(bobAddress), [0, 20 + 1000])
    assert.deepEqual(reinviteTimes(aliceAddress), [0, 20 + 3050])
    assert.equal(aliceDialog.remoteDescription?.body.toString(), sdp('bob', 2).body.toString())
    assert.equal(bobDialog.remoteDescription?.body.toString(), sdp('alice', 2).body.toString())
    assert.equal(aliceDialog.state, DialogState.Confirmed)
  })

  test('an UPDATE offer crossing a re-INVITE offer gets 491', async ({ assert }) => {
    const { clock, network, aliceDialog, bobDialog, aliceAddress } = confirmedCall()
    const reinvite = aliceDialog.reinvite({ description: sdp('alice', 2) })
    const update = bobDialog.update({ description: sdp('bob', 2) })
    await run(clock, 5000)
    assert.lengthOf(network.responses(491, 'UPDATE', aliceAddress), 1)
    assert.equal((await update).status, 200)
    assert.equal((await reinvite).status, 200)
  })
})
