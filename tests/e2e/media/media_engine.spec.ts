import { test } from '@japa/runner'
import dgram from 'node:dgram'
import WeriftMediaEngine from '#media/werift_media_engine'
import type WorkerMediaEngine from '#media/worker/worker_media_engine'
import { asRelayLeg } from '#media/relay_leg'
import {
  MediaNegotiationError,
  type MediaBridge,
  type MediaEngine,
  type MediaLeg,
  type RtpLeg,
  type WebRtcLeg,
} from '#media/types'
import {
  BROWSER_PT,
  FakeBrowser,
  FakeCarrier,
  configuredEngine,
  forgedFingerprint,
  dtmfPayload,
  settled,
  sleep,
  waitFor,
} from '#tests/e2e/media/media_peers'

/*
 * The media engine against in-process peers on 127.0.0.1: a werift peer connection as the browser
 * (ICE, DTLS-SRTP) and a UDP socket as the carrier. Its own port ranges, away from the defaults.
 */

/**
 * The packet path the groups below run on: each runs twice, on the C++ path (the default where
 * built) and on the TypeScript one (the fallback), set by the group's setup.
 */
let packetPath: 'native' | 'typescript' = 'native'
const PACKET_PATHS = ['native', 'typescript'] as const

/** The engine the test environment runs (MEDIA_WORKERS), on its own port ranges. */
function newEngine(): MediaEngine {
  return configuredEngine({
    announcedIps: ['127.0.0.1'],
    webrtcPorts: [52000, 52199],
    rtpPorts: [52200, 52399],
    mediaTimeoutSeconds: 5,
    packetPath,
  })
}

const AUDIO = Buffer.alloc(160, 0xd5)

interface OutboundCall {
  engine: MediaEngine
  browser: FakeBrowser
  carrier: FakeCarrier
  webrtc: WebRtcLeg
  rtp: RtpLeg
  bridge: MediaBridge
  answerSdp: string
}

/** The outbound call path: browser offer → carrier offer/answer (PCMA) → answer to the browser → bridge. */
async function outboundCall(
  options: { timeout?: number; carrierAddress?: string } = {}
): Promise<OutboundCall> {
  const engine = newEngine()
  const browser = new FakeBrowser()
  const carrier = await FakeCarrier.open()
  const webrtc = await engine.createWebRtcLeg()
  const rtp = await engine.createRtpLeg({ near: webrtc })
  const browserOffer = await browser.offer()
  carrier.useSdp(await rtp.createOffer({ codecs: ['PCMA', 'PCMU'] }))
  const carrierMedia = await rtp.applyAnswer(carrier.sdp({ address: options.carrierAddress }))
  const { sdp: answerSdp } = await webrtc.answer(browserOffer, {
    codecs: [carrierMedia.audio.codec],
  })
  await browser.acceptAnswer(answerSdp)
  await Promise.all([webrtc.ready(), browser.connected()])
  const bridge = engine.bridge(webrtc, rtp, { mediaTimeoutSeconds: options.timeout ?? 5 })
  await settled(engine)
  return { engine, browser, carrier, webrtc, rtp, bridge, answerSdp }
}

async function hangUp(call: Partial<OutboundCall> & { engine: MediaEngine }) {
  call.bridge?.close()
  await call.browser?.close()
  call.carrier?.close()
  await call.engine.close()
}

/** The inbound call path's legs: the carrier calls in with PCMU only, answered by the RTP leg. */
async function inboundCall(cleanup: (fn: () => void | Promise<void>) => void) {
  const engine = newEngine()
  const browser = new FakeBrowser()
  const carrier = await FakeCarrier.open()
  cleanup(() => hangUp({ engine, browser, carrier }))
  const rtp = await engine.createRtpLeg()
  const webrtc = await engine.createWebRtcLeg({ near: rtp })
  const carrierAnswer = await rtp.answer(carrier.sdp({ codecs: ['0'] }), {
    codecs: ['PCMA', 'PCMU'],
  })
  carrier.useSdp(carrierAnswer.sdp)
  return { engine, browser, carrier, rtp, webrtc, carrierAnswer }
}

/** Once both ends are connected: bridged, and a packet of each side arrives at the other. */
async function relaysBothWays(
  call: Awaited<ReturnType<typeof inboundCall>>,
  cleanup: (fn: () => void | Promise<void>) => void
) {
  const { engine, browser, carrier, rtp, webrtc } = call
  await Promise.all([webrtc.ready(), browser.connected()])
  const bridge = engine.bridge(webrtc, rtp)
  await settled(engine)
  cleanup(() => bridge.close())
  carrier.send(0, AUDIO)
  await browser.send(0, AUDIO)
  await waitFor(
    () => browser.received.length > 0 && carrier.received.length > 0,
    3000,
    'audio both ways'
  )
}

test.group('Media engine: WebRTC leg negotiation', () => {
  test('answers a browser offer with only the allowed codec and telephone-event/8000', async ({
    assert,
    cleanup,
  }) => {
    const engine = newEngine()
    const browser = new FakeBrowser()
    cleanup(() => hangUp({ engine, browser }))
    const leg = await engine.createWebRtcLeg()
    const offer = await browser.offer()
    assert.include(offer, 'telephone-event/48000')

    const { sdp, media } = await leg.answer(offer, { codecs: ['PCMA'] })
    const mLine = sdp.split('\r\n').find((line) => line.startsWith('m=audio'))!
    assert.equal(mLine.split(' ').slice(3).join(' '), `${BROWSER_PT.PCMA} ${BROWSER_PT.dtmf8k}`)
    assert.notInclude(sdp, 'opus')
    assert.notInclude(sdp, 'PCMU')
    assert.notInclude(sdp, '/48000')
    assert.include(sdp, `a=rtpmap:${BROWSER_PT.dtmf8k} telephone-event/8000`)
    const candidates = sdp.split('\r\n').filter((line) => line.startsWith('a=candidate:'))
    assert.isAbove(candidates.length, 0)
    for (const candidate of candidates) assert.equal(candidate.split(' ')[4], '127.0.0.1')
    for (const candidate of candidates) {
      const port = Number(candidate.split(' ')[5])
      assert.isTrue(port >= 52000 && port <= 52199, `candidate port ${port} in the WebRTC range`)
    }
    assert.deepEqual(media, {
      audio: { codec: 'PCMA', payloadType: BROWSER_PT.PCMA },
      dtmf: { payloadType: BROWSER_PT.dtmf8k },
      direction: 'sendrecv',
    })
    assert.deepEqual(leg.negotiated, media)
  })

  test('refuses an offer without an allowed codec (488) and bad SDP with a negotiation error', async ({
    assert,
    cleanup,
  }) => {
    const engine = newEngine()
    cleanup(() => engine.close())
    const leg = await engine.createWebRtcLeg()
    const opusOnly = [
      'v=0',
      'o=- 1 1 IN IP4 0.0.0.0',
      's=-',
      't=0 0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'c=IN IP4 0.0.0.0',
      'a=rtpmap:111 opus/48000/2',
      '',
    ].join('\r\n')
    await assert.rejects(
      () => leg.answer(opusOnly, { codecs: ['PCMU', 'PCMA'] }),
      MediaNegotiationError
    )
    await assert.rejects(() => leg.answer('hello', { codecs: ['PCMU'] }), MediaNegotiationError)
    await assert.rejects(
      () => leg.answer('v=0\r\n' + 'a=x\r\n'.repeat(400), { codecs: ['PCMU'] }),
      MediaNegotiationError
    )
  })

  test('re-offers on the same connection: browser hold (sendonly) and resume', async ({
    assert,
    cleanup,
  }) => {
    const call = await outboundCall()
    cleanup(() => hangUp(call))
    const fingerprint = /a=fingerprint:\S+ (\S+)/.exec(call.answerSdp)![1]

    const holdOffer = await call.browser.offer('sendonly')
    const hold = await call.webrtc.answer(holdOffer, { codecs: ['PCMA'] })
    await call.browser.acceptAnswer(hold.sdp)
    assert.equal(hold.media.direction, 'recvonly')
    assert.include(hold.sdp, 'a=recvonly')
    assert.include(hold.sdp, fingerprint)
    call.bridge.refresh()

    // Held by the browser: its audio still reaches the carrier, nothing goes back to it
    const before = call.browser.received.length
    call.carrier.send(8, AUDIO)
    await call.browser.send(BROWSER_PT.PCMA, AUDIO)
    await waitFor(
      () => call.carrier.received.length > 0,
      3000,
      'browser audio at the carrier while held'
    )
    await sleep(150)
    assert.equal(call.browser.received.length, before)

    const resume = await call.webrtc.answer(await call.browser.offer('sendrecv'), {
      codecs: ['PCMA'],
    })
    await call.browser.acceptAnswer(resume.sdp)
    assert.equal(resume.media.direction, 'sendrecv')
    call.bridge.refresh()
    call.carrier.send(8, AUDIO)
    await waitFor(() => call.browser.received.length > before, 3000, 'carrier audio after resume')
  })

  test('offers to a browser (inbound call) and applies its answer', async ({ assert, cleanup }) => {
    const call = await inboundCall(cleanup)
    const { browser, carrier, webrtc, carrierAnswer } = call
    assert.equal(carrierAnswer.media.audio.codec, 'PCMU')

    const offer = await webrtc.createOffer({ codecs: [carrierAnswer.media.audio.codec] })
    const mLine = offer.split('\r\n').find((line) => line.startsWith('m=audio'))!
    assert.equal(mLine.split(' ').slice(3).join(' '), '0 101')
    assert.include(offer, 'a=rtpmap:101 telephone-event/8000')
    assert.match(offer, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 /)

    const media = await webrtc.applyAnswer(await browser.answer(offer))
    assert.deepEqual(media.audio, { codec: 'PCMU', payloadType: 0 })
    assert.deepEqual(media.dtmf, { payloadType: 101 })
    await relaysBothWays(call, cleanup)
    assert.equal(browser.received[0].payloadType, 0)
    assert.equal(carrier.received[0].payloadType, 0)
  })

  test('a re-offer while the first DTLS handshake is under way: media flows once it is done', async ({
    assert,
    cleanup,
  }) => {
    const call = await inboundCall(cleanup)
    const { engine, browser, webrtc } = call
    const lost: MediaLeg[] = []
    engine.onLegLost!((leg) => lost.push(leg))
    // The browser's DTLS waits while ICE connects and a re-offer goes through (the B2BUA's
    // re-INVITE after a transfer on a busy machine): werift then reports the connection connected
    // before the DTLS keys exist. The old leg tried to take them at that moment, failed, and
    // relayed nothing for the rest of the call.
    let releaseDtls!: () => void
    const dtlsHeld = new Promise<void>((resolve) => (releaseDtls = resolve))
    const offer = await webrtc.createOffer({ codecs: ['PCMU'] })
    await webrtc.applyAnswer(await browser.answer(offer, { dtlsAfter: dtlsHeld }))
    await waitFor(() => browser.pc.iceConnectionState === 'connected', 3000, 'ICE connected')
    await sleep(100)
    const reoffer = await webrtc.createOffer({ codecs: ['PCMU'] })
    await webrtc.applyAnswer(await browser.answer(reoffer))
    await sleep(100)
    releaseDtls()
    await relaysBothWays(call, cleanup)
    assert.equal(browser.received[0].payloadType, 0)
    assert.lengthOf(lost, 0, 'the second negotiation is no connection failure')
  })

  test('a browser whose DTLS certificate does not match its SDP: ready() rejects and the engine reports the leg lost, once; a leg we close is never reported', async ({
    assert,
    cleanup,
  }) => {
    const engine = newEngine()
    const [browser, other] = [new FakeBrowser(), new FakeBrowser()]
    cleanup(async () => {
      await other.close()
      await hangUp({ engine, browser })
    })
    const lost: Array<[MediaLeg, string]> = []
    engine.onLegLost!((leg, reason) => lost.push([leg, reason]))
    // Connected, then closed by us (the call ended): werift's connection is closed, not failed
    const closedByUs = await engine.createWebRtcLeg()
    await other.acceptAnswer(
      (await closedByUs.answer(await other.offer(), { codecs: ['PCMU'] })).sdp
    )
    await Promise.all([closedByUs.ready(), other.connected()])
    await closedByUs.close()
    const webrtc = await engine.createWebRtcLeg()
    const { sdp } = await webrtc.answer(forgedFingerprint(await browser.offer()), {
      codecs: ['PCMU'],
    })
    await browser.acceptAnswer(sdp)
    await assert.rejects(() => webrtc.ready(), /failed/)
    await waitFor(() => lost.length > 0, 5000, 'the leg reported lost')
    await sleep(200)
    assert.deepEqual(
      lost.map(([leg, reason]) => [leg === webrtc, reason]),
      [[true, 'connection_failed']]
    )
  })
})

for (const path of PACKET_PATHS) {
  test.group(`Media engine: bridge (${path} packet path)`, (group) => {
    group.setup(() => {
      packetPath = path
    })

    test("relays audio both ways with each leg's payload types, over DTLS-SRTP", async ({
      assert,
      cleanup,
    }) => {
      const call = await outboundCall()
      cleanup(() => hangUp(call))
      assert.oneOf(call.browser.srtpProfile, [1, 7])
      for (let i = 0; i < 5; i++) {
        call.carrier.send(8, Buffer.alloc(160, i))
        await call.browser.send(BROWSER_PT.PCMA, Buffer.alloc(160, 0x40 + i))
        await sleep(20)
      }
      await waitFor(
        () => call.browser.received.length === 5 && call.carrier.received.length === 5,
        3000,
        '5 packets each way'
      )
      assert.deepEqual(
        call.browser.received.map((p) => p.payloadType),
        [8, 8, 8, 8, 8]
      )
      assert.deepEqual(
        call.browser.received.map((p) => p.payload[0]),
        [0, 1, 2, 3, 4]
      )
      assert.deepEqual(
        call.carrier.received.map((p) => p.payload[0]),
        [0x40, 0x41, 0x42, 0x43, 0x44]
      )
      // Counted where the packets are: in a worker, the figures come with its next report
      await waitFor(
        () => call.bridge.relayed.aToB === 5 && call.bridge.relayed.bToA === 5,
        1000,
        'relayed figures'
      )
      assert.deepEqual(call.bridge.relayed, { aToB: 5, bToA: 5 })
      // Towards the browser: the SSRC werift announced in the answer
      const announcedSsrc = Number(/a=ssrc:(\d+)/.exec(call.answerSdp)![1])
      assert.isTrue(call.browser.received.every((p) => p.ssrc === announcedSsrc))
      const seqs = call.browser.received.map((p) => p.sequenceNumber)
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => (seqs[0] + i) & 0xffff)
      )
      assert.equal(call.webrtc.stats.packetsReceived, 5)
      assert.equal(call.rtp.stats.packetsSent, 5)
      // In this process (no workers): the legs run on the packet path the group asked for
      if (call.engine instanceof WeriftMediaEngine) {
        assert.equal(asRelayLeg(call.webrtc).nativeLeg > 0, packetPath === 'native')
        assert.equal(asRelayLeg(call.rtp).nativeLeg > 0, packetPath === 'native')
      }
    })

    test('the browser leg: loss and jitter of what the browser sends, RTT from its receiver reports on our sender reports', async ({
      assert,
      cleanup,
    }) => {
      const call = await outboundCall()
      cleanup(() => hangUp(call))
      assert.isNull(call.webrtc.quality.rttMs)
      // Media both ways until the browser (a werift peer) reported on one of our SRs over SRTCP
      const deadline = Date.now() + 8000
      for (let i = 0; call.webrtc.quality.rttMs === null && Date.now() < deadline; i++) {
        call.carrier.send(8, Buffer.alloc(160, i & 0xff))
        await call.browser.send(BROWSER_PT.PCMA, AUDIO)
        await sleep(20)
      }
      const quality = call.webrtc.quality
      assert.isNotNull(quality.rttMs, 'a round-trip time from the browser’s reports')
      assert.isAtLeast(quality.rttMs!, 0)
      assert.isBelow(quality.rttMs!, 1000, 'loopback')
      // Our RTCP session's reports out and the browser's in, over our SRTCP
      assert.isAtLeast(quality.rtcpSent, 1)
      assert.isAtLeast(quality.rtcpReceived, 1)
      assert.isAbove(quality.packetsExpected, 10)
      assert.equal(quality.packetsLost, 0)
    })

    test("DTMF from the carrier reaches the browser as telephone-event/8000 with the browser's payload type, and back", async ({
      assert,
      cleanup,
    }) => {
      const call = await outboundCall()
      cleanup(() => hangUp(call))
      // Digit 5: three updates and the end, one event timestamp (RFC 4733 §2.5); the carrier sends
      // with the payload type of our offer (101), the browser's is 126
      const eventTs = 80_000
      call.carrier.send(8, AUDIO, { timestamp: eventTs - 160 })
      for (const [duration, end] of [
        [160, false],
        [320, false],
        [480, false],
        [640, true],
      ] as const) {
        call.carrier.send(101, dtmfPayload(5, end, duration), {
          timestamp: eventTs,
          marker: duration === 160,
        })
      }
      await waitFor(() => call.browser.received.length === 5, 3000, 'audio and 4 event packets')
      const events = call.browser.received.filter((p) => p.payloadType === BROWSER_PT.dtmf8k)
      assert.lengthOf(events, 4)
      assert.isTrue(events.every((p) => p.payload[0] === 5))
      assert.isTrue(events[0].marker)
      assert.equal(new Set(events.map((p) => p.timestamp)).size, 1)
      // 8 kHz: the event starts 160 samples after the audio packet before it
      assert.equal((events[0].timestamp - call.browser.received[0].timestamp) >>> 0, 160)
      assert.deepEqual(
        events.map((p) => p.payload.readUInt16BE(2)),
        [160, 320, 480, 640]
      )
      assert.isTrue((events[3].payload[1] & 0x80) !== 0)

      // The browser's digits go to the carrier with the carrier's payload type (96 in its answer)
      await call.browser.send(BROWSER_PT.dtmf8k, dtmfPayload(9, false, 160), 4000, true)
      await waitFor(() => call.carrier.received.length === 1, 3000, 'browser DTMF at the carrier')
      assert.equal(call.carrier.received[0].payloadType, 96)
      assert.equal(call.carrier.received[0].payload[0], 9)
    })

    test('rejects packets from an address other than the signalled one', async ({
      assert,
      cleanup,
    }) => {
      const call = await outboundCall()
      const intruder = dgram.createSocket('udp4')
      cleanup(() => {
        intruder.close()
        return hangUp(call)
      })
      await new Promise<void>((resolve) => intruder.bind(0, '127.0.0.1', () => resolve()))
      const target = call.carrier.target!
      for (let i = 0; i < 3; i++)
        intruder.send(call.carrier.packet(8, AUDIO), target.port, target.address)
      call.carrier.send(8, AUDIO)
      await waitFor(
        () => call.rtp.stats.packetsRejected === 3 && call.browser.received.length === 1,
        3000,
        'rejections'
      )
      await sleep(100)
      assert.equal(call.browser.received.length, 1)
      assert.equal(call.rtp.stats.packetsReceived, 1)
    })

    test('a carrier whose SDP names an address the operating system refuses: each relayed packet counted as a send failure, the call goes on', async ({
      assert,
      cleanup,
    }) => {
      // The broadcast address: the kernel refuses the datagram (EACCES) before it leaves the machine
      const call = await outboundCall({ carrierAddress: '255.255.255.255' })
      cleanup(() => hangUp(call))
      const ended: string[] = []
      call.bridge.onEnded((reason) => ended.push(reason))
      for (let i = 0; i < 3; i++) {
        await call.browser.send(BROWSER_PT.PCMA, Buffer.alloc(160, i))
        await sleep(20)
      }
      await waitFor(() => call.rtp.stats.sendFailures === 3, 3000, 'three refused sends')
      assert.equal(call.rtp.stats.packetsSent, 0)
      assert.equal(call.webrtc.stats.packetsReceived, 3)
      const engine = call.engine as WeriftMediaEngine | WorkerMediaEngine
      await waitFor(
        () => engine.counters.figures().packetsSendFailed === 3,
        3000,
        "the engine's figures"
      )
      // The bridge stands: the next packet is relayed (and refused) as well
      await call.browser.send(BROWSER_PT.PCMA, AUDIO)
      await waitFor(() => call.rtp.stats.sendFailures === 4, 3000, 'the fourth refused send')
      assert.deepEqual(ended, [])
    })

    test('latching: accepts the signalled IP on any port and answers to where packets come from', async ({
      assert,
      cleanup,
    }) => {
      const engine = newEngine()
      const carrier = await FakeCarrier.open()
      const phone = await FakeCarrier.open()
      cleanup(async () => {
        carrier.close()
        phone.close()
        await engine.close()
      })
      const latching = await engine.createRtpLeg({ latching: true })
      const other = await engine.createRtpLeg({ near: latching })
      // The phone signals the carrier's port (behind a NAT it would not know its public port)
      phone.useSdp((await latching.answer(carrier.sdp(), { codecs: ['PCMA'] })).sdp)
      carrier.useSdp((await other.answer(carrier.sdp(), { codecs: ['PCMA'] })).sdp)
      const bridge = engine.bridge(latching, other)
      await settled(engine)
      cleanup(() => bridge.close())
      phone.send(8, AUDIO)
      await waitFor(() => carrier.received.length === 1, 3000, 'phone audio relayed')
      carrier.received.length = 0
      // Packets for the phone now go to the port it sent from, not to the signalled one
      carrier.send(8, AUDIO)
      await waitFor(() => phone.received.length === 1, 3000, 'audio sent to the latched port')
      assert.equal(latching.stats.packetsRejected, 0)
    })

    test('hold stops forwarding and suspends the media timeout; without RTP the timeout ends the bridge', async ({
      assert,
      cleanup,
    }) => {
      const call = await outboundCall({ timeout: 0.4 })
      cleanup(() => hangUp(call))
      const ended: string[] = []
      call.bridge.onEnded((reason) => ended.push(reason))
      call.bridge.setHeld(true)
      call.carrier.send(8, AUDIO)
      await call.browser.send(BROWSER_PT.PCMA, AUDIO)
      await sleep(900)
      assert.deepEqual(ended, [], 'no timeout while held')
      assert.equal(call.browser.received.length, 0)
      assert.equal(call.carrier.received.length, 0)
      assert.deepEqual(call.bridge.relayed, { aToB: 0, bToA: 0 })

      call.bridge.setHeld(false)
      call.carrier.send(8, AUDIO)
      await waitFor(() => call.browser.received.length === 1, 3000, 'audio after unhold')
      await waitFor(() => ended.length > 0, 2000, 'media timeout')
      assert.deepEqual(ended, ['media_timeout'])
      // Ended means no more relaying
      call.carrier.send(8, AUDIO)
      await sleep(100)
      assert.equal(call.browser.received.length, 1)
    })

    test('a carrier re-offer with sendonly or c=0.0.0.0 holds: nothing is sent to it, no timeout for its silence', async ({
      assert,
      cleanup,
    }) => {
      const engine = newEngine()
      const carrier = await FakeCarrier.open()
      const phone = await FakeCarrier.open()
      cleanup(async () => {
        carrier.close()
        phone.close()
        await engine.close()
      })
      const a = await engine.createRtpLeg()
      const b = await engine.createRtpLeg({ near: a })
      carrier.useSdp((await a.answer(carrier.sdp(), { codecs: ['PCMA'] })).sdp)
      phone.useSdp((await b.answer(phone.sdp(), { codecs: ['PCMA'] })).sdp)
      const bridge = engine.bridge(a, b, { mediaTimeoutSeconds: 0.4 })
      await settled(engine)
      cleanup(() => bridge.close())
      const ended: string[] = []
      bridge.onEnded((reason) => ended.push(reason))

      const sendonly = await a.answer(carrier.sdp({ direction: 'sendonly' }), { codecs: ['PCMA'] })
      assert.equal(sendonly.media.direction, 'recvonly')
      assert.include(sendonly.sdp, 'a=recvonly')
      const oldStyle = await a.answer(carrier.sdp({ address: '0.0.0.0' }), { codecs: ['PCMA'] })
      assert.equal(oldStyle.media.direction, 'recvonly')
      // The B2BUA passes the hold on: the phone answers recvonly and stops sending
      const { media } = await b.answer(phone.sdp({ direction: 'recvonly' }), { codecs: ['PCMA'] })
      assert.equal(media.direction, 'sendonly')
      bridge.refresh()
      phone.send(8, AUDIO)
      await sleep(900)
      assert.equal(carrier.received.length, 0)
      assert.deepEqual(ended, [], 'the timeout is suspended while held')

      // Resumed: both sides should send again, and silence now ends the call
      await a.answer(carrier.sdp(), { codecs: ['PCMA'] })
      await b.answer(phone.sdp(), { codecs: ['PCMA'] })
      bridge.refresh()
      phone.send(8, AUDIO)
      await waitFor(() => carrier.received.length === 1, 3000, 'audio to the carrier after resume')
      await waitFor(() => ended.length === 1, 2000, 'media timeout after resume')
    })

    test('replace() keeps SSRC, sequence numbers and timestamps continuous towards the browser', async ({
      assert,
      cleanup,
    }) => {
      const call = await outboundCall()
      const second = await FakeCarrier.open()
      cleanup(() => {
        second.close()
        return hangUp(call)
      })
      for (let i = 0; i < 3; i++) {
        call.carrier.send(8, AUDIO)
        await sleep(20)
      }
      await waitFor(() => call.browser.received.length === 3, 3000, 'first fork audio')
      const rtp2 = await call.engine.createRtpLeg({ near: call.rtp })
      second.useSdp((await rtp2.answer(second.sdp(), { codecs: ['PCMA'] })).sdp)
      call.bridge.replace(call.rtp, rtp2)
      assert.strictEqual(call.bridge.b, rtp2)
      // Another fork: other SSRC, sequence and timestamp space
      second.seq = 40_000
      second.ssrc = 0x7777
      for (let i = 0; i < 3; i++) {
        second.send(8, AUDIO, { timestamp: 3_000_000_000 + i * 160 })
        await sleep(20)
      }
      await waitFor(() => call.browser.received.length === 6, 3000, 'second fork audio')
      const got = call.browser.received
      assert.equal(new Set(got.map((p) => p.ssrc)).size, 1)
      for (let i = 1; i < 6; i++)
        assert.equal(got[i].sequenceNumber, (got[i - 1].sequenceNumber + 1) & 0xffff)
      const jump = (got[3].timestamp - got[2].timestamp) >>> 0
      assert.isAtLeast(jump, 160)
      assert.isBelow(jump, 8 * 2000, 'timestamp advances by about the elapsed time')
      assert.isTrue(got[3].marker, 'new talkspurt marked')
      // The replaced leg is no longer relayed
      call.carrier.send(8, AUDIO)
      await sleep(100)
      assert.equal(call.browser.received.length, 6)
    })
  })

  test.group(`Media engine: Opus between two browsers (${path} packet path)`, (group) => {
    group.setup(() => {
      packetPath = path
    })

    test('two browser legs that negotiated Opus relay it unchanged, each with its own payload type', async ({
      assert,
      cleanup,
    }) => {
      const engine = newEngine()
      // Browser A numbers Opus 109 (as Firefox does); our offer to B numbers it 111
      const alice = new FakeBrowser({ opusPt: 109 })
      const bob = new FakeBrowser()
      cleanup(async () => {
        await alice.close()
        await bob.close()
        await engine.close()
      })
      const aLeg = await engine.createWebRtcLeg()
      const bLeg = await engine.createWebRtcLeg({ near: aLeg })

      // What the call session does: B is offered A's codecs in A's order, B's answer decides
      const aliceOffer = await alice.offer()
      const offerToBob = await bLeg.createOffer({ codecs: ['opus', 'PCMU', 'PCMA'] })
      assert.include(offerToBob, 'a=rtpmap:111 opus/48000/2')
      const bMedia = await bLeg.applyAnswer(await bob.answer(offerToBob))
      assert.deepEqual(bMedia.audio, { codec: 'opus', payloadType: 111 })
      const { sdp: answerToAlice, media: aMedia } = await aLeg.answer(aliceOffer, {
        codecs: [bMedia.audio.codec],
      })
      assert.deepEqual(aMedia.audio, { codec: 'opus', payloadType: 109 })
      const mLine = answerToAlice.split('\r\n').find((line) => line.startsWith('m=audio'))!
      assert.equal(mLine.split(' ').slice(3).join(' '), `109 ${BROWSER_PT.dtmf8k}`)
      assert.include(answerToAlice, 'a=rtpmap:109 opus/48000/2')
      await alice.acceptAnswer(answerToAlice)
      await Promise.all([aLeg.ready(), bLeg.ready(), alice.connected(), bob.connected()])
      const bridge = engine.bridge(aLeg, bLeg)
      await settled(engine)
      cleanup(() => bridge.close())

      // Opus frames of varying size (no transcoding may touch them), 20 ms = 960 ticks at 48 kHz
      const frame = (seed: number) =>
        Buffer.from(Array.from({ length: 40 + seed * 7 }, (_, i) => (seed * 31 + i * 13) & 0xff))
      for (let i = 0; i < 5; i++) {
        await alice.send(109, frame(i), 1_000_000 + i * 960)
        await bob.send(111, frame(10 + i), 2_000_000 + i * 960)
        await sleep(20)
      }
      await waitFor(
        () => alice.received.length === 5 && bob.received.length === 5,
        3000,
        '5 Opus packets each way'
      )
      assert.deepEqual(
        bob.received.map((p) => p.payloadType),
        [111, 111, 111, 111, 111]
      )
      assert.deepEqual(
        alice.received.map((p) => p.payloadType),
        [109, 109, 109, 109, 109]
      )
      for (let i = 0; i < 5; i++) {
        assert.isTrue(bob.received[i].payload.equals(frame(i)), `A→B frame ${i} byte for byte`)
        assert.isTrue(
          alice.received[i].payload.equals(frame(10 + i)),
          `B→A frame ${i} byte for byte`
        )
      }
      // The 48 kHz timestamp spacing passes through
      for (const got of [alice.received, bob.received]) {
        for (let i = 1; i < 5; i++)
          assert.equal((got[i].timestamp - got[i - 1].timestamp) >>> 0, 960)
      }
      await waitFor(
        () => bridge.relayed.aToB === 5 && bridge.relayed.bToA === 5,
        1000,
        'relayed figures'
      )
      assert.deepEqual(bridge.relayed, { aToB: 5, bToA: 5 })
    })

    test('a SIP phone (plain RTP) gets what it offers: Opus relayed unchanged to a browser', async ({
      assert,
      cleanup,
    }) => {
      const engine = newEngine()
      const phone = await FakeCarrier.open()
      const browser = new FakeBrowser()
      cleanup(async () => {
        phone.close()
        await browser.close()
        await engine.close()
      })
      const rtp = await engine.createRtpLeg()
      // A G.711-only offer (a carrier's profile) never carries Opus
      assert.notInclude(await rtp.createOffer({ codecs: ['PCMA', 'PCMU'] }), 'opus')
      const phoneOffer = [
        'v=0',
        'o=phone 1 1 IN IP4 127.0.0.1',
        's=-',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        `m=audio ${phone.port} RTP/AVP 96 8 101`,
        'a=rtpmap:96 opus/48000/2',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:101 telephone-event/8000',
        '',
      ].join('\r\n')
      const phoneAnswer = await rtp.answer(phoneOffer, { codecs: ['opus', 'PCMU', 'PCMA'] })
      assert.deepEqual(phoneAnswer.media.audio, { codec: 'opus', payloadType: 96 })
      assert.include(phoneAnswer.sdp, 'a=rtpmap:96 opus/48000/2')
      assert.match(phoneAnswer.sdp, /^m=audio \d+ RTP\/AVP 96 101$/m)
      phone.useSdp(phoneAnswer.sdp)

      const webrtc = await engine.createWebRtcLeg({ near: rtp })
      const offer = await webrtc.createOffer({ codecs: ['opus'] })
      assert.deepEqual((await webrtc.applyAnswer(await browser.answer(offer))).audio, {
        codec: 'opus',
        payloadType: 111,
      })
      await Promise.all([webrtc.ready(), browser.connected()])
      const bridge = engine.bridge(rtp, webrtc)
      await settled(engine)
      cleanup(() => bridge.close())
      const frame = (seed: number) => Buffer.alloc(30 + seed, seed)
      for (let i = 0; i < 3; i++) {
        phone.send(96, frame(i), { timestamp: 9_000 + i * 960 })
        await browser.send(111, frame(5 + i), 70_000 + i * 960)
        await sleep(20)
      }
      await waitFor(
        () => browser.received.length === 3 && phone.received.length === 3,
        3000,
        '3 Opus packets each way'
      )
      assert.deepEqual(
        browser.received.map((p) => p.payloadType),
        [111, 111, 111]
      )
      assert.deepEqual(
        phone.received.map((p) => p.payloadType),
        [96, 96, 96]
      )
      for (let i = 0; i < 3; i++) {
        assert.isTrue(browser.received[i].payload.equals(frame(i)))
        assert.isTrue(phone.received[i].payload.equals(frame(5 + i)))
      }
    })

    test('a browser leg offered Opus and G.711 by a browser that has only G.711 falls back to G.711', async ({
      assert,
      cleanup,
    }) => {
      const engine = newEngine()
      cleanup(() => engine.close())
      const leg = await engine.createWebRtcLeg()
      const offer = await leg.createOffer({ codecs: ['opus', 'PCMA'] })
      const mLine = offer.split('\r\n').find((line) => line.startsWith('m=audio'))!
      assert.equal(mLine.split(' ').slice(3).join(' '), '111 8 101')
      // A G.711-only answer (what the web phone of a carrier-bound call would never send, but a
      // browser without Opus would): PCMA is taken
      const answer = offer
        .replace(/^m=audio (\d+) (\S+) .*$/m, 'm=audio $1 $2 8 101')
        .replace(/^a=(rtpmap|fmtp|rtcp-fb):111 .*\r\n/gm, '')
        .replace(/^a=setup:actpass/m, 'a=setup:active')
      const media = await leg.applyAnswer(answer)
      assert.deepEqual(media.audio, { codec: 'PCMA', payloadType: 8 })
    })
  })

  test.group(`Media engine: echo, ports, options (${path} packet path)`, (group) => {
    group.setup(() => {
      packetPath = path
    })

    test("echo sends an RTP leg's audio and DTMF back after about 200 ms", async ({
      assert,
      cleanup,
    }) => {
      const engine = newEngine()
      const phone = await FakeCarrier.open()
      cleanup(async () => {
        phone.close()
        await engine.close()
      })
      const leg = await engine.createRtpLeg()
      phone.useSdp((await leg.answer(phone.sdp(), { codecs: ['PCMA'] })).sdp)
      const echo = engine.echo(leg)
      await settled(engine)
      cleanup(() => echo.close())
      const sentAt = Date.now()
      phone.send(8, Buffer.alloc(160, 0x33))
      phone.send(96, dtmfPayload(1, true, 800))
      await waitFor(() => phone.received.length === 2, 3000, 'echo')
      assert.isAtLeast(Date.now() - sentAt, 180)
      assert.deepEqual(
        phone.received.map((p) => p.payloadType),
        [8, 96]
      )
      assert.equal(phone.received[0].payload[0], 0x33)
    })

    test('echo works for a browser leg', async ({ assert, cleanup }) => {
      const engine = newEngine()
      const browser = new FakeBrowser()
      cleanup(() => hangUp({ engine, browser }))
      const leg = await engine.createWebRtcLeg()
      await browser.acceptAnswer(
        (await leg.answer(await browser.offer(), { codecs: ['PCMU', 'PCMA'] })).sdp
      )
      await Promise.all([leg.ready(), browser.connected()])
      engine.echo(leg)
      await settled(engine)
      await browser.send(0, Buffer.alloc(160, 0x21))
      await waitFor(() => browser.received.length === 1, 3000, 'echoed audio')
      assert.equal(browser.received[0].payloadType, 0)
      assert.equal(browser.received[0].payload[0], 0x21)
    })

    test('ports come from the configured ranges and go back on close, also for SDES-SRTP legs', async ({
      assert,
      cleanup,
    }) => {
      const engine = new WeriftMediaEngine({
        announcedIps: ['127.0.0.1'],
        webrtcPorts: [52400, 52419],
        rtpPorts: [52420, 52423],
        mediaTimeoutSeconds: 5,
      })
      cleanup(() => engine.close())
      const legs: MediaLeg[] = [await engine.createRtpLeg(), await engine.createRtpLeg()]
      assert.deepEqual(legs.map((leg) => (leg as RtpLeg).localPort).sort(), [52420, 52422])
      await assert.rejects(() => engine.createRtpLeg(), /MEDIA_RTP_PORTS/)
      assert.equal(engine.openLegs, 2)
      await legs[0].close()
      assert.equal(engine.openLegs, 1)
      const again = await engine.createRtpLeg()
      assert.equal(again.localPort, (legs[0] as RtpLeg).localPort)
      // SDES-SRTP legs (tests/e2e/media/sdes_srtp.spec.ts) come from the same pool
      await again.close()
      const secure = await engine.createRtpLeg({ srtp: true })
      assert.equal(secure.localPort, again.localPort)
      assert.match(await secure.createOffer({ codecs: ['PCMA'] }), /m=audio \d+ RTP\/SAVP /)
      assert.throws(
        () =>
          new WeriftMediaEngine({
            announcedIps: ['127.0.0.1'],
            webrtcPorts: [40000, 41000],
            rtpPorts: [41000, 42000],
            mediaTimeoutSeconds: 5,
          }),
        /overlap/
      )
      assert.throws(
        () =>
          new WeriftMediaEngine({
            announcedIps: ['media.example'],
            webrtcPorts: [40000, 41000],
            rtpPorts: [42000, 43000],
            mediaTimeoutSeconds: 5,
          }),
        /MEDIA_ANNOUNCED_IPS/
      )
    })
  })
}
