import { test } from '@japa/runner'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AnnouncementFileError,
  MediaFeatureUnavailableError,
  WARNING_TONE,
  toneShare,
  type G711CodecName,
} from '#media'
import { sineSamples, wavFile } from '#tests/support/wav'
import {
  BROWSER_PT,
  FakeBrowser,
  FakeCarrier,
  configuredEngine,
  settled,
  sleep,
  waitFor,
} from '#tests/e2e/media/media_peers'
import type { SeenPacket } from '#tests/e2e/media/media_peers'

/*
 * The warning tone through the real media engine: generated G.711 frames played to the browser's
 * WebRTC leg (DTLS-SRTP) and to a carrier's or phone's RTP leg, in the codec each negotiated,
 * as one continuous stream with the relayed audio around it; a recorded announcement (WAV) the
 * same way. Own port ranges; the engine the
 * product runs (MEDIA_WORKERS: in a worker process, or in this one with 0).
 */

/** The engine MEDIA_WORKERS selects. */
function newEngine() {
  return configuredEngine({
    announcedIps: ['127.0.0.1'],
    webrtcPorts: [52400, 52499],
    rtpPorts: [52500, 52599],
    mediaTimeoutSeconds: 5,
  })
}

/** Browser ⇄ carrier in `codec` (the browser may be left on Opus), bridged. */
async function call(codec: G711CodecName, browserCodec: G711CodecName | 'opus' = codec) {
  const engine = newEngine()
  const browser = new FakeBrowser()
  const carrier = await FakeCarrier.open()
  const webrtc = await engine.createWebRtcLeg()
  const rtp = await engine.createRtpLeg({ near: webrtc })
  const offer = await browser.offer()
  carrier.useSdp(await rtp.createOffer({ codecs: ['PCMA', 'PCMU'] }))
  await rtp.applyAnswer(carrier.sdp({ codecs: [codec === 'PCMA' ? '8' : '0'] }))
  const { sdp } = await webrtc.answer(offer, { codecs: [browserCodec] })
  await browser.acceptAnswer(sdp)
  await Promise.all([webrtc.ready(), browser.connected()])
  const bridge = engine.bridge(webrtc, rtp, { mediaTimeoutSeconds: 5 })
  await settled(engine)
  const close = async () => {
    bridge.close()
    await browser.close()
    carrier.close()
    await engine.close()
  }
  return { engine, browser, carrier, webrtc, rtp, bridge, close }
}

const isBeep = (codec: G711CodecName) => (packet: SeenPacket) =>
  toneShare(packet.payload, codec, WARNING_TONE.frequencyHz) > 0.9

/** Sequence numbers one after another, one SSRC: the receiver sees a single stream. */
function assertContinuous(assert: any, packets: SeenPacket[]) {
  assert.equal(new Set(packets.map((p) => p.ssrc)).size, 1, 'one SSRC')
  for (let i = 1; i < packets.length; i++)
    assert.equal(packets[i].sequenceNumber, (packets[i - 1].sequenceNumber + 1) & 0xffff)
}

test.group('Media engine: the warning tone', () => {
  test('to the browser (WebRTC, PCMU): 30 beep frames among 60, the carrier audio waits meanwhile', async ({
    assert,
    cleanup,
  }) => {
    const c = await call('PCMU')
    cleanup(c.close)
    const speech = Buffer.alloc(160, 0x55)
    c.carrier.send(0, speech)
    await waitFor(() => c.browser.received.length === 1, 3000, 'relayed audio first')

    const tone = c.bridge.playTone(c.webrtc)
    // The carrier talks on during the tone: nothing of it reaches the browser meanwhile
    for (let i = 0; i < 10; i++) {
      c.carrier.send(0, speech)
      await sleep(20)
    }
    assert.equal(await tone, 60, 'every frame accepted by the leg')
    await waitFor(() => c.browser.received.length >= 61, 3000, 'the tone at the browser')
    c.carrier.send(0, speech)
    await waitFor(() => c.browser.received.length >= 62, 3000, 'relayed audio again')

    const got = c.browser.received
    assert.equal(got.length, 62, 'the carrier audio sent during the tone was not relayed')
    assert.isTrue(got.every((p) => p.payloadType === BROWSER_PT.PCMU))
    const toneFrames = got.slice(1, 61)
    assert.lengthOf(toneFrames.filter(isBeep('PCMU')), 30)
    assert.isTrue(toneFrames[0].marker, 'the tone opens a talkspurt')
    assert.deepEqual(got[61].payload, speech)
    assertContinuous(assert, got)
    await settled(c.engine)
    assert.equal(c.bridge.relayed.bToA, 2)
  }).timeout(20_000)

  test('to a phone or carrier (RTP, PCMA), with the WebRTC side still relayed towards it afterwards', async ({
    assert,
    cleanup,
  }) => {
    const c = await call('PCMA')
    cleanup(c.close)
    const played = await c.bridge.playTone(c.rtp, { ...WARNING_TONE, beeps: 2 })
    assert.equal(played, 40)
    await waitFor(() => c.carrier.received.length >= 40, 3000, 'the tone at the carrier')
    await c.browser.send(BROWSER_PT.PCMA, Buffer.alloc(160, 0x33))
    await waitFor(() => c.carrier.received.length >= 41, 3000, 'browser audio again')

    const got = c.carrier.received
    assert.isTrue(got.every((p) => p.payloadType === 8))
    assert.lengthOf(got.slice(0, 40).filter(isBeep('PCMA')), 20)
    assertContinuous(assert, got)
    // Timestamps advance 160 per frame through the tone
    for (let i = 1; i < 40; i++) assert.equal((got[i].timestamp - got[i - 1].timestamp) >>> 0, 160)
  }).timeout(20_000)

  test('closing the bridge stops a tone at once', async ({ assert, cleanup }) => {
    const c = await call('PCMA')
    cleanup(c.close)
    const tone = c.bridge.playTone(c.rtp)
    await sleep(100)
    c.bridge.close()
    const sent = await tone
    assert.isAbove(sent, 0)
    assert.isBelow(sent, 20)
  }).timeout(20_000)
})

test.group('Media engine: recorded announcements', (group) => {
  let directory = ''
  group.setup(() => {
    directory = mkdtempSync(join(tmpdir(), 'announcements-'))
    return () => rmSync(directory, { recursive: true, force: true })
  })
  /** A WAV file of `seconds` of a 1 kHz sine (the announcement the test can recognise). */
  const announcement = (name: string, seconds: number) => {
    const path = join(directory, name)
    writeFileSync(path, wavFile(sineSamples(1000, seconds)))
    return { path }
  }

  test('to a carrier (RTP, PCMA): every frame of the file in order, then the relayed audio in the same stream', async ({
    assert,
    cleanup,
  }) => {
    const c = await call('PCMA')
    cleanup(c.close)
    // 0.31 s: 15 whole frames and one filled up with silence
    const played = await c.bridge.playAnnouncement(c.rtp, announcement('closed.wav', 0.31))
    assert.equal(played, 16)
    await waitFor(() => c.carrier.received.length >= 16, 3000, 'the announcement at the carrier')
    await c.browser.send(BROWSER_PT.PCMA, Buffer.alloc(160, 0x33))
    await waitFor(() => c.carrier.received.length >= 17, 3000, 'browser audio again')

    const got = c.carrier.received
    assert.isTrue(got.every((p) => p.payloadType === 8))
    const heard = got.slice(0, 16).map((p) => toneShare(p.payload, 'PCMA', 1000))
    assert.isTrue(
      heard.slice(0, 15).every((share) => share > 0.9),
      `the recording: ${heard.join(', ')}`
    )
    assert.isTrue(got[0].marker, 'the announcement opens a talkspurt')
    assert.deepEqual(got[16].payload, Buffer.alloc(160, 0x33))
    assertContinuous(assert, got)
  }).timeout(20_000)

  test('a browser leg on Opus is refused with a clear error, a file that is no 8 kHz mono WAV too; the call goes on', async ({
    assert,
    cleanup,
  }) => {
    const c = await call('PCMU', 'opus')
    cleanup(c.close)
    const wav = announcement('closed.wav', 0.1)
    await assert.rejects(async () => {
      try {
        await c.bridge.playAnnouncement(c.webrtc, wav)
      } catch (error) {
        assert.instanceOf(error, MediaFeatureUnavailableError)
        throw error
      }
    }, /played as G\.711; this leg negotiated opus/)
    const stereo = join(directory, 'stereo.wav')
    writeFileSync(stereo, wavFile([1, 2, 3, 4], { channels: 2 }))
    await assert.rejects(async () => {
      try {
        await c.bridge.playAnnouncement(c.rtp, { path: stereo })
      } catch (error) {
        assert.instanceOf(error, AnnouncementFileError)
        throw error
      }
    }, /must be 16-bit PCM, 8,000 Hz, mono/)
    await assert.rejects(
      () => c.bridge.playAnnouncement(c.rtp, { path: join(directory, 'missing.wav') }),
      /cannot be read/
    )
    // Nothing was held back: the carrier's audio still reaches the browser
    c.carrier.send(0, Buffer.alloc(160, 0x55))
    await waitFor(() => c.browser.received.length >= 1, 3000, 'relayed audio')
  }).timeout(20_000)
})
