import { test } from '@japa/runner'
import type { MediaEngine, RelayTap, RelayedPacket } from '#media/types'
import {
  FakeBrowser,
  configuredEngine,
  settled,
  sleep,
  waitFor,
} from '#tests/e2e/media/media_peers'

/*
 * Issue 22 on the relay: the test tap sees what the relay forwards between two browser legs after
 * SRTP decryption (so a browser test can check it is SFrame ciphertext), and our SDP towards
 * browsers never carries the audio-level header extension (it would tell the relay who speaks).
 * Peers: werift peer connections as browsers (ICE, DTLS-SRTP) on 127.0.0.1. The engine the
 * product runs (MEDIA_WORKERS): in a worker process each tapped packet crosses the IPC channel.
 */

/** The engine MEDIA_WORKERS selects (both have the test tap). */
type TappableEngine = MediaEngine & { tapRelays(listener: RelayTap): () => void }

function newEngine() {
  // The top of this worktree's ranges, away from the app engine's (it allocates from the bottom)
  return configuredEngine({
    announcedIps: ['127.0.0.1'],
    webrtcPorts: [31800, 31999],
    rtpPorts: [33800, 33999],
    mediaTimeoutSeconds: 5,
  }) as TappableEngine
}

const AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level'

/** Chromium's offers carry the audio-level extension; werift's test peer does not: add it. */
function withAudioLevel(offer: string) {
  return offer.replace(/(a=mid:[^\r\n]*\r\n)/, `$1a=extmap:1 ${AUDIO_LEVEL}\r\n`)
}

async function browserCall(engine: TappableEngine) {
  const alice = new FakeBrowser()
  const bob = new FakeBrowser()
  const aLeg = await engine.createWebRtcLeg()
  const bLeg = await engine.createWebRtcLeg({ near: aLeg })
  const offerToBob = await bLeg.createOffer({ codecs: ['PCMU'] })
  const bobAnswer = await bob.answer(offerToBob)
  await bLeg.applyAnswer(bobAnswer)
  const aliceOffer = withAudioLevel(await alice.offer())
  const { sdp: answerToAlice } = await aLeg.answer(aliceOffer, { codecs: ['PCMU'] })
  await alice.acceptAnswer(answerToAlice)
  await Promise.all([aLeg.ready(), bLeg.ready(), alice.connected(), bob.connected()])
  return { alice, bob, aLeg, bLeg, aliceOffer, offerToBob, answerToAlice }
}

test.group('Media relay: the test tap and the audio-level extension (issue 22)', () => {
  test('the tap sees each relayed payload after SRTP decryption, per direction and leg; untapped, nothing', async ({
    assert,
    cleanup,
  }) => {
    const engine = newEngine()
    const call = await browserCall(engine)
    cleanup(async () => {
      await call.alice.close()
      await call.bob.close()
      await engine.close()
    })
    const seen: RelayedPacket[] = []
    const untap = engine.tapRelays((packet) => seen.push(packet))
    const bridge = engine.bridge(call.aLeg, call.bLeg)
    await settled(engine)

    // Stand-ins for SFrame frames: bytes no G.711 tone has, different each way
    const frame = (seed: number) =>
      Buffer.from(Array.from({ length: 60 + seed }, (_, i) => (seed * 37 + i * 11) & 0xff))
    for (let i = 0; i < 4; i++) {
      await call.alice.send(0, frame(i))
      await call.bob.send(0, frame(20 + i))
      await sleep(20)
    }
    await waitFor(() => seen.length === 8, 3000, '8 relayed packets seen by the tap')
    const aToB = seen.filter((packet) => packet.direction === 'aToB')
    const bToA = seen.filter((packet) => packet.direction === 'bToA')
    assert.lengthOf(aToB, 4)
    assert.lengthOf(bToA, 4)
    for (let i = 0; i < 4; i++) {
      assert.isTrue(aToB[i].payload.equals(frame(i)), `a→b payload ${i} as Alice sent it`)
      assert.isTrue(bToA[i].payload.equals(frame(20 + i)), `b→a payload ${i} as Bob sent it`)
    }
    assert.isTrue(aToB.every((packet) => packet.from === call.aLeg && packet.to === call.bLeg))
    assert.isTrue(bToA.every((packet) => packet.from === call.bLeg && packet.to === call.aLeg))
    assert.isTrue(seen.every((packet) => packet.payloadType === 0 && !packet.dtmf))
    // What the tap keeps is a copy: what the browsers received is the same bytes
    await waitFor(() => call.bob.received.length === 4, 3000, 'Bob hears 4 packets')
    assert.isTrue(call.bob.received[3].payload.equals(aToB[3].payload))

    untap()
    await settled(engine)
    await call.alice.send(0, frame(9))
    await waitFor(() => bridge.relayed.aToB === 5, 3000, 'a fifth packet relayed')
    assert.lengthOf(seen, 8)
  })

  test('no audio-level header extension in our answer to a browser that offers it, nor in our offers', async ({
    assert,
    cleanup,
  }) => {
    const engine = newEngine()
    const call = await browserCall(engine)
    cleanup(async () => {
      await call.alice.close()
      await call.bob.close()
      await engine.close()
    })
    assert.include(call.aliceOffer, AUDIO_LEVEL, 'the browser offered it')
    assert.notInclude(call.answerToAlice, AUDIO_LEVEL)
    assert.notInclude(call.offerToBob, AUDIO_LEVEL)
    // A re-offer (hold, a transfer's identity update) neither
    assert.notInclude(await call.aLeg.createOffer({ codecs: ['PCMU'] }), AUDIO_LEVEL)
  })
})
