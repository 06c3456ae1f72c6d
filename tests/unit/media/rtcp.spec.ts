import dgram from 'node:dgram'
import { randomBytes } from 'node:crypto'
import { test } from '@japa/runner'
import { RtpHeader, SrtcpSession, SrtpSession } from 'werift'
import ReceptionStats from '#media/reception_stats'
import {
  RTCP_RR,
  RTCP_SR,
  encodeCompound,
  ntpMiddle,
  ntpTime,
  parseRtcp,
  roundTripMs,
} from '#media/rtcp_packet'
import RtcpSession, { type RtcpClock } from '#media/rtcp_session'
import RtpSocketLeg from '#media/rtp_socket_leg'

/** A clock whose timers run when the test moves time on. */
class ManualClock implements RtcpClock {
  ms = 1_760_000_000_000
  #timers: Array<{ at: number; callback: () => void }> = []
  now() {
    return this.ms
  }
  setTimeout(callback: () => void, ms: number) {
    const timer = { at: this.ms + ms, callback }
    this.#timers.push(timer)
    return timer
  }
  clearTimeout(handle: unknown) {
    this.#timers = this.#timers.filter((timer) => timer !== handle)
  }
  advance(ms: number) {
    const end = this.ms + ms
    for (;;) {
      const next = this.#timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0]
      if (!next) break
      this.#timers = this.#timers.filter((timer) => timer !== next)
      this.ms = next.at
      next.callback()
    }
    this.ms = end
  }
}

function rtp(seq: number, timestamp: number, ssrc = 0x1234) {
  const packet = Buffer.alloc(12 + 160)
  packet[0] = 0x80
  packet[1] = 8
  packet.writeUInt16BE(seq & 0xffff, 2)
  packet.writeUInt32BE(timestamp >>> 0, 4)
  packet.writeUInt32BE(ssrc, 8)
  return packet
}

test.group('RTCP packets (RFC 3550 §6.4-6.6)', () => {
  test('an SR with one report block, SDES CNAME and BYE encodes and parses back', ({ assert }) => {
    const block = {
      ssrc: 0xdeadbeef,
      fractionLost: 12,
      cumulativeLost: 25,
      extendedHighestSeq: 0x1_0005,
      jitter: 33,
      lastSr: 0x12345678,
      delaySinceLastSr: 65536,
    }
    const sender = {
      ntpSeconds: 0xe0000001,
      ntpFraction: 0x80000000,
      rtpTimestamp: 160_000,
      packetCount: 500,
      octetCount: 80_000,
    }
    const packet = encodeCompound({
      ssrc: 0xcafe,
      sender,
      blocks: [block],
      cname: 'leg@fluffycall',
      bye: true,
    })
    // SR: V=2, RC=1, PT=200, length 12 words - 1; then SDES, then BYE
    assert.equal(packet[0], 0x81)
    assert.equal(packet[1], RTCP_SR)
    assert.equal(packet.readUInt16BE(2), (8 + 20 + 24) / 4 - 1)
    assert.equal(packet.length % 4, 0)
    const parsed = parseRtcp(packet)!
    assert.deepEqual(parsed.reports, [{ type: RTCP_SR, ssrc: 0xcafe, sender, blocks: [block] }])
    assert.equal(parsed.cnames.get(0xcafe), 'leg@fluffycall')
    assert.deepEqual(parsed.byes, [0xcafe])
  })

  test('an RR without blocks; a negative cumulative loss survives its 24 bits', ({ assert }) => {
    const rr = parseRtcp(encodeCompound({ ssrc: 7, sender: null, blocks: [], cname: 'x' }))!
    assert.equal(rr.reports[0].type, RTCP_RR)
    assert.deepEqual(rr.reports[0].blocks, [])
    const withBlock = encodeCompound({
      ssrc: 7,
      sender: null,
      blocks: [
        {
          ssrc: 1,
          fractionLost: 0,
          cumulativeLost: -3,
          extendedHighestSeq: 9,
          jitter: 0,
          lastSr: 0,
          delaySinceLastSr: 0,
        },
      ],
      cname: 'x',
    })
    assert.equal(parseRtcp(withBlock)!.reports[0].blocks[0].cumulativeLost, -3)
  })

  test('malformed RTCP reads as null: short, wrong version, length past the end, SDES first', ({
    assert,
  }) => {
    const good = encodeCompound({ ssrc: 7, sender: null, blocks: [], cname: 'x' })
    assert.isNull(parseRtcp(good.subarray(0, 6)))
    const version1 = Buffer.from(good)
    version1[0] = 0x40
    assert.isNull(parseRtcp(version1))
    const tooLong = Buffer.from(good)
    tooLong.writeUInt16BE(200, 2)
    assert.isNull(parseRtcp(tooLong))
    const blocksPastEnd = Buffer.from(good)
    blocksPastEnd[0] = 0x83 // claims three report blocks in an 8-byte RR
    assert.isNull(parseRtcp(blocksPastEnd))
    assert.isNull(parseRtcp(good.subarray(8)), 'a compound must start with SR or RR')
    assert.isNull(parseRtcp(Buffer.alloc(2000, 0x80)))
  })

  test('NTP time and the round-trip time from LSR and DLSR', ({ assert }) => {
    const ntp = ntpTime(1000.5 * 1000)
    assert.equal(ntp.seconds, 2_208_988_800 + 1000)
    assert.equal(ntp.fraction, 0x80000000)
    assert.equal(ntpMiddle(0x0001_0002, 0x0003_0004), 0x0002_0003)
    // RFC 3550 Figure 2: A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000, DLSR = 0x0005:4000
    assert.closeTo(roundTripMs(0xb7108000, 0xb7052000, 0x00054000)!, 6125, 0.001)
    assert.isNull(roundTripMs(0xb7108000, 0, 0), 'no SR of ours seen yet')
    assert.isNull(roundTripMs(0x00010000, 0x00020000, 0), 'negative: a stale or forged report')
    // Wrap-around of the middle 32 bits
    assert.closeTo(roundTripMs(0x00000800, 0xfffff800, 0)!, (0x1000 / 65536) * 1000, 0.001)
  })
})

test.group('RTCP session (fake clock)', () => {
  test('reports every ~5 s: RR before we send, SR after; the block carries loss and the LSR/DLSR', ({
    assert,
  }) => {
    const clock = new ManualClock()
    const reception = new ReceptionStats(8000, () => clock.now())
    const sent = { packets: 0, octets: 0, lastTimestamp: 0, lastSentAt: clock.ms }
    const out: Buffer[] = []
    const session = new RtcpSession({
      cname: 'test@fluffycall',
      reception,
      clock,
      random: () => 0.5,
      sent: () => ({ ssrc: 0xabc, clockRate: 8000, ...sent }),
      transmit: (packet) => out.push(packet) > 0,
    })
    // 100 packets of which every 20th is missing: 95 arrive
    for (let seq = 0; seq < 100; seq++) if (seq % 20 !== 19) reception.packet(rtp(seq, seq * 160))
    session.start()
    clock.advance(2499)
    assert.lengthOf(out, 0, 'the first report after half an interval')
    clock.advance(1)
    assert.lengthOf(out, 1)
    const first = parseRtcp(out[0])!
    assert.equal(first.reports[0].type, RTCP_RR, 'nothing sent yet: RR')
    const block = first.reports[0].blocks[0]
    assert.equal(block.ssrc, 0x1234)
    assert.equal(block.cumulativeLost, 4)
    assert.equal(block.extendedHighestSeq, 98)
    assert.equal(block.fractionLost, Math.floor((4 * 256) / 99))
    assert.equal(block.lastSr, 0, 'no SR from the peer yet')

    // The peer's SR arrives; our next report names it with the delay since
    const peerNtp = ntpTime(clock.ms)
    session.receive(
      encodeCompound({
        ssrc: 0x1234,
        sender: {
          ntpSeconds: peerNtp.seconds,
          ntpFraction: peerNtp.fraction,
          rtpTimestamp: 0,
          packetCount: 95,
          octetCount: 95 * 160,
        },
        blocks: [],
        cname: 'peer',
      })
    )
    sent.packets = 50
    sent.octets = 8000
    clock.advance(2499)
    assert.lengthOf(out, 1)
    clock.advance(1)
    assert.lengthOf(out, 2, 'no media at the first report: the next one half an interval later')
    const second = parseRtcp(out[1])!
    assert.equal(second.reports[0].type, RTCP_SR, 'we sent media: SR')
    assert.equal(second.reports[0].sender!.packetCount, 50)
    assert.equal(second.reports[0].blocks[0].lastSr, ntpMiddle(peerNtp.seconds, peerNtp.fraction))
    assert.equal(second.reports[0].blocks[0].delaySinceLastSr, 2500 * 65.536)
    assert.equal(second.reports[0].blocks[0].fractionLost, 0, 'nothing new lost since')
    assert.equal(second.cnames.get(0xabc), 'test@fluffycall')

    clock.advance(4999)
    assert.lengthOf(out, 2)
    clock.advance(1)
    assert.lengthOf(out, 3, 'then every 5 s')

    session.stop(true)
    assert.lengthOf(out, 4)
    assert.deepEqual(parseRtcp(out[3])!.byes, [0xabc], 'a last report with BYE')
    clock.advance(20_000)
    assert.lengthOf(out, 4, 'no report after stop')
  })

  test('the round-trip time comes from the peer’s report blocks about our SSRC', ({ assert }) => {
    const clock = new ManualClock()
    const session = new RtcpSession({
      cname: 'x',
      reception: new ReceptionStats(),
      clock,
      sent: () => ({
        ssrc: 0xabc,
        packets: 10,
        octets: 1600,
        lastTimestamp: 0,
        lastSentAt: clock.ms,
        clockRate: 8000,
      }),
      transmit: () => true,
    })
    assert.isNull(session.rttMs)
    // Our SR left at t0; the peer held it 100 ms, its report arrives 180 ms after t0: RTT 80 ms
    const t0 = ntpTime(clock.ms)
    clock.advance(180)
    const block = (ssrc: number) => ({
      ssrc,
      fractionLost: 0,
      cumulativeLost: 0,
      extendedHighestSeq: 0,
      jitter: 0,
      lastSr: ntpMiddle(t0.seconds, t0.fraction),
      delaySinceLastSr: Math.round(0.1 * 65536),
    })
    session.receive(
      encodeCompound({ ssrc: 1, sender: null, blocks: [block(0x999), block(0xabc)], cname: 'p' })
    )
    assert.closeTo(session.rttMs!, 80, 0.1)
    assert.equal(session.reportsReceived, 1)
    session.receive(Buffer.from('not rtcp at all'))
    assert.equal(session.malformed, 1)
  })
})

test.group('RTCP session: sub-millisecond round trips', () => {
  /** Wall clock in whole ms (as Date.now()), monotonic time in fractions (as performance.now()). */
  function clocks() {
    const clock = new ManualClock()
    const start = clock.ms
    // Moves the monotonic clock alone (within the wall clock's millisecond)
    let fraction = 0.25
    const timed: RtcpClock = {
      now: () => clock.now(),
      elapsed: () => clock.ms - start + fraction,
      setTimeout: (callback, ms) => clock.setTimeout(callback, ms),
      clearTimeout: (handle) => clock.clearTimeout(handle),
    }
    return { clock, timed, wait: (ms: number) => (fraction += ms) }
  }

  function sessionOn(clock: RtcpClock, out: Buffer[]) {
    let packets = 0
    return new RtcpSession({
      cname: 'x',
      reception: new ReceptionStats(),
      clock,
      random: () => 0.5,
      sent: () => ({
        ssrc: 0xabc,
        // Media goes out all the time: every report is an SR
        packets: (packets += 10),
        octets: packets * 160,
        lastTimestamp: 0,
        lastSentAt: clock.now(),
        clockRate: 8000,
      }),
      transmit: (packet) => out.push(packet) > 0,
    })
  }

  function answer(sr: Buffer, delaySinceLastSr: number) {
    const sender = parseRtcp(sr)!.reports[0].sender!
    return encodeCompound({
      ssrc: 1,
      sender: null,
      blocks: [
        {
          ssrc: 0xabc,
          fractionLost: 0,
          cumulativeLost: 0,
          extendedHighestSeq: 0,
          jitter: 0,
          lastSr: ntpMiddle(sender.ntpSeconds, sender.ntpFraction),
          delaySinceLastSr,
        },
      ],
      cname: 'p',
    })
  }

  test('a report within the same wall-clock millisecond as our SR gives its RTT from the monotonic clock', ({
    assert,
  }) => {
    const { clock, timed, wait } = clocks()
    const out: Buffer[] = []
    const session = sessionOn(timed, out)
    session.start()
    clock.advance(2500)
    assert.lengthOf(out, 1)
    // The peer held our SR 0.3 ms (20 units of 1/65536 s) and its report came 0.5 ms after ours
    // left, in the same whole millisecond of the wall clock: the NTP arithmetic alone reads -0.3 ms
    wait(0.5)
    session.receive(answer(out[0], 20))
    assert.closeTo(session.rttMs!, 0.5 - (20 * 1000) / 65536, 0.001)
    // A DLSR from a peer's millisecond clock (baresip's) may overstate the delay by up to 1 ms:
    // 1 ms against a 0.51 ms round trip reads as 0, not as a discarded sample
    wait(0.01)
    session.receive(answer(out[0], 66))
    assert.equal(session.lastRttMs, 0)
    // 3 ms more than the time since our SR left: no report about it, dropped
    const samples = session.rttMs! * 2
    session.receive(answer(out[0], 197))
    assert.equal(session.lastRttMs, 0)
    assert.closeTo(session.rttMs! * 2, samples, 0.001, 'still two samples')
    session.stop(false)
  })

  test('reports on SRs we no longer remember use the NTP bits; an impossible one is dropped', ({
    assert,
  }) => {
    const { clock, timed } = clocks()
    const out: Buffer[] = []
    const session = sessionOn(timed, out)
    session.start()
    clock.advance(2500)
    for (let i = 0; i < 4; i++) clock.advance(5000)
    assert.lengthOf(out, 5)
    // A report naming our last SR with a DLSR longer than the time since it left: dropped
    session.receive(answer(out[4], 65536 * 10))
    assert.isNull(session.rttMs)
    // The first SR is out of the last four: 20 s since it left by the wall clock, 1 s of DLSR
    session.receive(answer(out[0], 65536))
    assert.closeTo(session.lastRttMs!, 19_000, 0.1)
    session.stop(false)
  })
})

test.group('RTCP on a plain RTP leg', () => {
  test('SR/RR reach the peer’s RTCP port (port + 1) and the peer’s reports give the RTT', async ({
    assert,
    cleanup,
  }) => {
    const clock = new ManualClock()
    const peerRtp = dgram.createSocket('udp4')
    const peerRtcp = dgram.createSocket('udp4')
    // An even port whose odd neighbour is free too
    let port = 0
    for (let attempt = 0; attempt < 20 && port === 0; attempt++) {
      const candidate = 20_000 + 2 * Math.floor(Math.random() * 10_000)
      try {
        await new Promise<void>((resolve, reject) => {
          peerRtp.once('error', reject)
          peerRtp.bind(candidate, '127.0.0.1', () => resolve())
        })
      } catch {
        continue
      }
      try {
        await new Promise<void>((resolve, reject) => {
          peerRtcp.once('error', reject)
          peerRtcp.bind(candidate + 1, '127.0.0.1', () => resolve())
        })
        port = candidate
      } catch {
        peerRtp.close()
        throw new Error('could not bind the peer’s RTCP port')
      }
    }
    cleanup(() => {
      peerRtp.close()
      peerRtcp.close()
    })
    const legPort = 30_000 + 2 * Math.floor(Math.random() * 5000)
    const leg = await RtpSocketLeg.open({
      port: legPort,
      bindAddress: '127.0.0.1',
      announcedIp: '127.0.0.1',
      latching: false,
      rtcp: { clock },
    })
    cleanup(() => leg.close())
    const offer = [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${port} RTP/AVP 8`,
      'a=rtpmap:8 PCMA/8000',
      '',
    ].join('\r\n')
    const { sdp } = await leg.answer(offer, { codecs: ['PCMA'] })
    assert.notInclude(sdp, 'rtcp-mux', 'not offered, not answered')
    const received: Buffer[] = []
    peerRtcp.on('message', (packet) => received.push(packet))
    for (let seq = 0; seq < 60; seq++) peerRtp.send(rtp(seq, seq * 160), legPort, '127.0.0.1')
    await waitFor(() => leg.stats.packetsReceived === 60)
    clock.advance(7500)
    await waitFor(() => received.length >= 1)
    const report = parseRtcp(received[0])!
    assert.equal(report.reports[0].type, RTCP_RR)
    assert.equal(report.reports[0].blocks[0].ssrc, 0x1234)
    assert.equal(report.reports[0].blocks[0].extendedHighestSeq, 59)

    // The peer answers with an RR about our SSRC naming an SR of ours 40 ms before, held 10 ms
    const ourSsrc = report.reports[0].ssrc
    const then = ntpTime(clock.ms - 40)
    peerRtcp.send(
      encodeCompound({
        ssrc: 0x1234,
        sender: null,
        blocks: [
          {
            ssrc: ourSsrc,
            fractionLost: 0,
            cumulativeLost: 0,
            extendedHighestSeq: 0,
            jitter: 0,
            lastSr: ntpMiddle(then.seconds, then.fraction),
            delaySinceLastSr: Math.round(0.01 * 65536),
          },
        ],
        cname: 'peer',
      }),
      legPort + 1,
      '127.0.0.1'
    )
    await waitFor(() => leg.quality.rttMs !== null)
    assert.closeTo(leg.quality.rttMs!, 30, 0.1)
    assert.equal(leg.quality.rtcpReceived, 1)
    assert.equal(leg.quality.packetsExpected, 60)
    assert.equal(leg.quality.packetsLost, 0)
  })
})

/** An even port whose odd neighbour is free too, bound by the peer's two sockets. */
async function peerSockets() {
  const peerRtp = dgram.createSocket('udp4')
  const peerRtcp = dgram.createSocket('udp4')
  for (let attempt = 0; attempt < 20; attempt++) {
    const candidate = 20_000 + 2 * Math.floor(Math.random() * 10_000)
    try {
      await new Promise<void>((resolve, reject) => {
        peerRtp.once('error', reject)
        peerRtp.bind(candidate, '127.0.0.1', () => resolve())
      })
    } catch {
      continue
    }
    await new Promise<void>((resolve, reject) => {
      peerRtcp.once('error', reject)
      peerRtcp.bind(candidate + 1, '127.0.0.1', () => resolve())
    })
    return { peerRtp, peerRtcp, port: candidate }
  }
  throw new Error('no free port pair for the peer')
}

/** werift's SRTP and SRTCP (an independent implementation) as the peer: its key out, ours in. */
function weriftPeer(peerMaterial: Buffer, ourInline: string) {
  const ours = Buffer.from(ourInline, 'base64')
  const keys = {
    localMasterKey: peerMaterial.subarray(0, 16),
    localMasterSalt: peerMaterial.subarray(16),
    remoteMasterKey: ours.subarray(0, 16),
    remoteMasterSalt: ours.subarray(16),
  }
  return {
    srtp: new SrtpSession({ keys, profile: 1 }),
    srtcp: new SrtcpSession({ keys, profile: 1 }),
  }
}

test.group('SRTCP on an SDES-SRTP leg', () => {
  for (const variant of [
    { name: 'on port + 1', mux: false, unencrypted: false },
    { name: 'multiplexed on the RTP port (a=rtcp-mux)', mux: true, unencrypted: false },
    { name: 'with UNENCRYPTED_SRTCP (answered, E = 0)', mux: false, unencrypted: true },
  ]) {
    test(`our SRTCP reports decrypt at the peer (werift) and its SRTCP reports give the RTT: ${variant.name}`, async ({
      assert,
      cleanup,
    }) => {
      const clock = new ManualClock()
      const { peerRtp, peerRtcp, port } = await peerSockets()
      cleanup(() => {
        peerRtp.close()
        peerRtcp.close()
      })
      const legPort = 30_000 + 2 * Math.floor(Math.random() * 5000)
      const leg = await RtpSocketLeg.open({
        port: legPort,
        bindAddress: '127.0.0.1',
        announcedIp: '127.0.0.1',
        latching: false,
        srtp: true,
        rtcp: { clock },
      })
      cleanup(() => leg.close())
      const peerMaterial = randomBytes(30)
      const offer = [
        'v=0',
        'o=- 1 1 IN IP4 127.0.0.1',
        's=-',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        `m=audio ${port} RTP/SAVP 8`,
        'a=rtpmap:8 PCMA/8000',
        `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${peerMaterial.toString('base64')}${variant.unencrypted ? ' UNENCRYPTED_SRTCP' : ''}`,
        ...(variant.mux ? ['a=rtcp-mux'] : []),
        '',
      ].join('\r\n')
      const { sdp } = await leg.answer(offer, { codecs: ['PCMA'] })
      assert.equal(sdp.includes('a=rtcp-mux'), variant.mux)
      assert.equal(sdp.includes('UNENCRYPTED_SRTCP'), variant.unencrypted)
      const ourInline = /a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:(\S+)/.exec(sdp)![1]
      const peer = weriftPeer(peerMaterial, ourInline)
      const peerRtcpIn = variant.mux ? peerRtp : peerRtcp
      const rtcpToLeg = variant.mux ? legPort : legPort + 1
      const received: Buffer[] = []
      peerRtcpIn.on('message', (packet) => {
        if (packet[1] >= 192 && packet[1] <= 223) received.push(packet)
      })

      for (let seq = 0; seq < 60; seq++) {
        const header = new RtpHeader({
          payloadType: 8,
          sequenceNumber: seq,
          timestamp: seq * 160,
          ssrc: 0x1234,
        })
        peerRtp.send(peer.srtp.encrypt(Buffer.alloc(160, 0xd5), header), legPort, '127.0.0.1')
      }
      await waitFor(() => leg.stats.packetsReceived === 60)
      clock.advance(7500)
      await waitFor(() => received.length >= 1)
      const wire = received[0]
      // E flag after the compound (10-byte tag at the end)
      assert.equal(wire.readUInt32BE(wire.length - 14) >>> 31, variant.unencrypted ? 0 : 1)
      const report = parseRtcp(peer.srtcp.decrypt(wire))!
      assert.equal(report.reports[0].type, RTCP_RR)
      assert.equal(report.reports[0].blocks[0].ssrc, 0x1234)
      assert.equal(report.reports[0].blocks[0].extendedHighestSeq, 59)

      // A forged report is counted and ignored; then the peer's real RR (40 ms ago, held 10 ms)
      const ourSsrc = report.reports[0].ssrc
      const then = ntpTime(clock.ms - 40)
      const rr = encodeCompound({
        ssrc: 0x1234,
        sender: null,
        blocks: [
          {
            ssrc: ourSsrc,
            fractionLost: 0,
            cumulativeLost: 0,
            extendedHighestSeq: 0,
            jitter: 0,
            lastSr: ntpMiddle(then.seconds, then.fraction),
            delaySinceLastSr: Math.round(0.01 * 65536),
          },
        ],
        cname: 'peer',
      })
      const forged = peer.srtcp.encrypt(rr)
      forged[12] ^= 1
      peerRtcpIn.send(forged, rtcpToLeg, '127.0.0.1')
      await waitFor(() => leg.rtcpAuthenticationFailures === 1)
      peerRtcpIn.send(peer.srtcp.encrypt(rr), rtcpToLeg, '127.0.0.1')
      await waitFor(() => leg.quality.rttMs !== null)
      assert.closeTo(leg.quality.rttMs!, 30, 0.1)
      assert.equal(leg.quality.rtcpReceived, 1)
      assert.equal(leg.quality.packetsLost, 0)
    })
  }
})

async function waitFor(condition: () => boolean, ms = 2000) {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
