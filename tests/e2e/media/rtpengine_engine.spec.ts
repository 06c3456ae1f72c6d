import { test } from '@japa/runner'
import RtpengineMediaEngine from '#media/rtpengine/rtpengine_media_engine'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AnnouncementFileError } from '#media/announcement'
import { WARNING_TONE, toneShare } from '#media/tone'
import { sineSamples, wavFile } from '#tests/support/wav'
import { startRtpengine, type RtpengineProcess } from '#tests/support/rtpengine'
import {
  BROWSER_PT,
  FakeBrowser,
  FakeCarrier,
  dtmfPayload,
  sleep,
  waitFor,
  type SeenPacket,
} from '#tests/e2e/media/media_peers'

/*
 * The rtpengine media engine against the real rtpengine (Debian rtpengine-daemon, user space,
 * loopback, ng on 2247, media 38000-38999) and in-process peers: a werift peer connection as the
 * browser (rtpengine does ICE and DTLS-SRTP with it) and a UDP socket as the carrier.
 */

const NG_PORT = 2247
const AUDIO = Buffer.alloc(160, 0xd5)

let rtpengine: RtpengineProcess

function newEngine() {
  return new RtpengineMediaEngine({
    ng: rtpengine.ng,
    innerAddress: '127.0.0.1',
    commandTimeoutMs: 2000,
    onError: (error) => console.error('rtpengine engine:', error),
  })
}

async function openCalls(): Promise<unknown[]> {
  return (await rtpengine.control.command('list')).calls as unknown[]
}

test.group('rtpengine media engine (real rtpengine)', (group) => {
  group.setup(async () => {
    rtpengine = await startRtpengine({ ngPort: NG_PORT, ports: [38000, 38999] })
    return () => rtpengine.stop()
  })

  test('a browser calls a carrier: audio both ways, DTMF with the negotiated payload type, calls deleted at the end', async ({
    assert,
    cleanup,
  }) => {
    const engine = newEngine()
    const browser = new FakeBrowser()
    const carrier = await FakeCarrier.open()
    cleanup(async () => {
      await browser.close()
      carrier.close()
      await engine.close()
    })
    const webrtc = await engine.createWebRtcLeg()
    const rtp = await engine.createRtpLeg({ latching: false })
    const browserOffer = await browser.offer()

    const carrierOffer = await rtp.createOffer({
      codecs: ['PCMA', 'PCMU'],
      payloadTypesFrom: browserOffer,
    })
    assert.match(carrierOffer, /m=audio \d+ RTP\/AVP 8 0 126\r\n/)
    assert.include(carrierOffer, 'a=rtpmap:126 telephone-event/8000')
    assert.notInclude(carrierOffer, 'a=candidate')
    const port = Number(/m=audio (\d+)/.exec(carrierOffer)![1])
    assert.isTrue(port >= 38000 && port <= 38999, `carrier-side port ${port} in rtpengine's range`)
    carrier.useSdp(carrierOffer)
    const carrierMedia = await rtp.applyAnswer(carrier.sdp({ dtmfPt: BROWSER_PT.dtmf8k }))
    assert.equal(carrierMedia.audio.codec, 'PCMA')

    const { sdp: answer, media } = await webrtc.answer(browserOffer, { codecs: ['PCMA'] })
    assert.include(answer, 'UDP/TLS/RTP/SAVPF')
    assert.include(answer, 'a=sendrecv')
    assert.match(answer, /a=fingerprint:/)
    assert.match(answer, /a=candidate:.* 127\.0\.0\.1 /)
    assert.deepEqual(media.audio, { codec: 'PCMA', payloadType: BROWSER_PT.PCMA })
    assert.deepEqual(media.dtmf, { payloadType: BROWSER_PT.dtmf8k })
    await browser.acceptAnswer(answer)
    await browser.connected()
    assert.lengthOf(await openCalls(), 2)

    const bridge = engine.bridge(webrtc, rtp)
    await (bridge as unknown as { settled(): Promise<void> }).settled()
    // The carrier's side points at our SDP's port; rtpengine sends from there (no latching needed)
    for (let i = 0; i < 30 && (!carrier.received.length || !browser.received.length); i++) {
      await browser.send(BROWSER_PT.PCMA, AUDIO)
      carrier.send(8, AUDIO)
      await sleep(20)
    }
    await waitFor(() => carrier.received.length > 0 && browser.received.length > 0, 3000, 'audio')
    assert.equal(carrier.received[0].payloadType, 8)
    assert.equal(browser.received[0].payloadType, BROWSER_PT.PCMA)

    for (const [index, end] of [false, false, true].entries()) {
      await browser.send(BROWSER_PT.dtmf8k, dtmfPayload(5, end, 160 * (index + 1)), 80_000, !index)
    }
    await waitFor(
      () => carrier.received.some((packet) => packet.payloadType === BROWSER_PT.dtmf8k),
      3000,
      'DTMF at the carrier'
    )
    const event = carrier.received.find((packet) => packet.payloadType === BROWSER_PT.dtmf8k)!
    assert.equal(event.payload[0], 5)

    bridge.close()
    await webrtc.close()
    await rtp.close()
    assert.equal(engine.openLegs, 0)
    assert.deepEqual(await openCalls(), [])
  }).timeout(20_000)

  test('the echo test sends a carrier its own audio back', async ({ assert, cleanup }) => {
    const engine = newEngine()
    const carrier = await FakeCarrier.open()
    const other = await FakeCarrier.open()
    cleanup(async () => {
      carrier.close()
      other.close()
      await engine.close()
    })
    const leg = await engine.createRtpLeg()
    const { sdp } = await leg.answer(carrier.sdp(), { codecs: ['PCMU', 'PCMA'] })
    carrier.useSdp(sdp)
    const echo = engine.echo(leg)
    for (let i = 0; i < 30 && !carrier.received.length; i++) {
      carrier.send(8, AUDIO)
      await sleep(20)
    }
    await waitFor(() => carrier.received.length > 0, 3000, 'echo')
    assert.equal(carrier.received[0].ssrc, carrier.ssrc)
    echo.close()

    await engine.close()
    assert.deepEqual(await openCalls(), [])
  }).timeout(20_000)

  test('an announcement and the warning tone played by rtpengine to one peer, the other side held back meanwhile; a file rtpengine cannot read is refused', async ({
    assert,
    cleanup,
  }) => {
    const engine = newEngine()
    const [carrier, other] = [await FakeCarrier.open(), await FakeCarrier.open()]
    const directory = mkdtempSync(join(tmpdir(), 'announcements-'))
    cleanup(async () => {
      carrier.close()
      other.close()
      await engine.close()
      rmSync(directory, { recursive: true, force: true })
    })
    const leg = await engine.createRtpLeg()
    carrier.useSdp((await leg.answer(carrier.sdp(), { codecs: ['PCMA'] })).sdp)
    const second = await engine.createRtpLeg()
    other.useSdp(await second.createOffer({ codecs: ['PCMA'] }))
    await second.applyAnswer(other.sdp())
    const bridge = engine.bridge(leg, second)
    const speech = Buffer.alloc(160, 0x33)
    const isSpeech = (packet: SeenPacket) => packet.payload.equals(speech)
    for (let i = 0; i < 30 && !carrier.received.some(isSpeech); i++) {
      other.send(8, speech)
      await sleep(20)
    }
    await waitFor(() => carrier.received.some(isSpeech), 3000, 'relayed audio first')

    const path = join(directory, 'closed.wav')
    writeFileSync(path, wavFile(sineSamples(1000, 0.5)))
    const before = carrier.received.length
    const playing = bridge.playAnnouncement(leg, { path })
    // The other side talks on during the announcement: none of it reaches the carrier meanwhile
    await sleep(100)
    for (let i = 0; i < 10; i++) {
      other.send(8, speech)
      await sleep(20)
    }
    assert.equal(await playing, 25, '0.5 s in 20 ms frames')
    const during = carrier.received.slice(before)
    const announced = during.filter((p) => toneShare(p.payload, 'PCMA', 1000) > 0.9)
    assert.isAtLeast(announced.length, 20, `${during.length} packets during the announcement`)
    assert.lengthOf(during.filter(isSpeech), 0, 'the other side was held back')
    for (let i = 0; i < 30 && !carrier.received.slice(before).some(isSpeech); i++) {
      other.send(8, speech)
      await sleep(20)
    }
    await waitFor(() => carrier.received.slice(before).some(isSpeech), 3000, 'relayed again')

    const beforeTone = carrier.received.length
    assert.equal(await bridge.playTone(leg, { ...WARNING_TONE, beeps: 1 }), 20)
    await sleep(200)
    const beeps = carrier.received
      .slice(beforeTone)
      .filter((p) => toneShare(p.payload, 'PCMA', WARNING_TONE.frequencyHz) > 0.9)
    assert.isAtLeast(beeps.length, 8, 'the 200 ms beep')

    await assert.rejects(async () => {
      try {
        await bridge.playAnnouncement(leg, { path: join(directory, 'missing.wav') })
      } catch (error) {
        assert.instanceOf(error, AnnouncementFileError)
        throw error
      }
    }, /could not play the announcement .*missing\.wav/)
    bridge.close()
  }).timeout(30_000)

  test('counters come from rtpengine; when both peers fall silent the bridge ends (media timeout)', async ({
    assert,
    cleanup,
  }) => {
    const engine = newEngine()
    const phone = await FakeCarrier.open()
    const carrier = await FakeCarrier.open()
    cleanup(async () => {
      phone.close()
      carrier.close()
      await engine.close()
    })
    const a = await engine.createRtpLeg({ latching: true })
    const { sdp } = await a.answer(phone.sdp(), { codecs: ['PCMA'] })
    phone.useSdp(sdp)
    const b = await engine.createRtpLeg({ latching: false })
    carrier.useSdp(await b.createOffer({ codecs: ['PCMA'] }))
    await b.applyAnswer(carrier.sdp())
    const bridge = engine.bridge(a, b, { mediaTimeoutSeconds: 1 })
    const ended: string[] = []
    bridge.onEnded((reason) => ended.push(reason))
    await (bridge as unknown as { settled(): Promise<void> }).settled()
    for (let i = 0; i < 10; i++) {
      phone.send(8, AUDIO)
      carrier.send(8, AUDIO)
      await sleep(20)
    }
    await waitFor(() => carrier.received.length >= 10 && phone.received.length >= 10, 3000, 'relay')
    // Nothing is sent any more: the bridge's next queries see no change for a whole second
    await waitFor(() => ended.length > 0, 5000, 'the media timeout')
    assert.deepEqual(ended, ['media_timeout'])
    assert.equal(a.stats.packetsReceived, 10)
    assert.equal(b.stats.packetsReceived, 10)
    assert.deepEqual(bridge.relayed, { aToB: 10, bToA: 10 })
  }).timeout(20_000)

  test('a leg closed before it negotiated leaves nothing behind', async ({ assert }) => {
    const engine = newEngine()
    const leg = await engine.createWebRtcLeg()
    assert.equal(engine.openLegs, 1)
    await leg.close()
    assert.equal(engine.openLegs, 0)
    await engine.close()
    assert.deepEqual(await openCalls(), [])
  })
})
