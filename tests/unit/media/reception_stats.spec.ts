import { test } from '@japa/runner'
import ReceptionStats from '#media/reception_stats'
import MediaEngineStats from '#media/media_engine_stats'

/** A 12-byte RTP header (PCMA) with the given sequence number, timestamp and SSRC. */
function rtp(seq: number, timestamp: number, ssrc = 0x1234) {
  const packet = Buffer.alloc(172)
  packet[0] = 0x80
  packet[1] = 8
  packet.writeUInt16BE(seq & 0xffff, 2)
  packet.writeUInt32BE(timestamp >>> 0, 4)
  packet.writeUInt32BE(ssrc, 8)
  return packet
}

test.group('Media reception stats (RFC 3550 loss and jitter)', () => {
  test('counts lost packets from the sequence numbers, across a wrap and a new SSRC', ({
    assert,
  }) => {
    let now = 0
    const stats = new ReceptionStats(8000, () => now)
    // 65530..65535, 0..9 with 3 and 7 missing: 16 expected, 14 received
    for (let i = 0; i < 16; i++) {
      const seq = (65530 + i) % 65536
      now = i * 20
      if (seq === 3 || seq === 7) continue
      stats.packet(rtp(seq, i * 160))
    }
    assert.equal(stats.expected, 16)
    assert.equal(stats.lost, 2)
    // A late duplicate moves nothing back
    stats.packet(rtp(65535, 5 * 160))
    assert.equal(stats.expected, 16)
    assert.equal(stats.lost, 1, 'received one more than the gap allowed: counted as found')

    // Another source starts: its packets count apart, the old totals stay
    for (let i = 0; i < 10; i++) {
      now = 1000 + i * 20
      stats.packet(rtp(100 + i, 5000 + i * 160, 0x9999))
    }
    assert.equal(stats.expected, 26)
    assert.equal(stats.lost, 1)
  })

  test('jitter: 0 for packets arriving on time, about the variation when they do not', ({
    assert,
  }) => {
    let now = 0
    const steady = new ReceptionStats(8000, () => now)
    for (let i = 0; i < 50; i++) {
      now = i * 20
      steady.packet(rtp(i, i * 160))
    }
    assert.equal(steady.jitterMs, 0)

    const shaky = new ReceptionStats(8000, () => now)
    for (let i = 0; i < 200; i++) {
      // Every other packet 10 ms late
      now = i * 20 + (i % 2) * 10
      shaky.packet(rtp(i, i * 160))
    }
    assert.closeTo(shaky.jitterMs, 10, 1.5)
  })

  test('SSRCs and timestamps above 2^31: no jitter from the timestamp wrapping around 2^32', ({
    assert,
  }) => {
    let now = 0
    const stats = new ReceptionStats(8000, () => now)
    assert.equal(stats.ssrc, -1)
    // 0xffffffff reads as -1 when taken as a signed value: still a stream, not "none yet"
    stats.packet(rtp(1, 0, 0xffffffff))
    assert.equal(stats.ssrc, 0xffffffff)
    assert.equal(stats.takeReport().ssrc, 0xffffffff)
    // On time, with the timestamp passing 2^31 and then wrapping at 2^32
    for (const [ssrc, start] of [
      [0xfedcba98, 0x7fffff00],
      [0x80000000, 0xfffffc00],
    ]) {
      for (let i = 0; i < 20; i++) {
        now += 20
        stats.packet(rtp(i, start + i * 160, ssrc))
      }
      assert.equal(stats.ssrc, ssrc)
      assert.equal(stats.jitterMs, 0)
      assert.equal(stats.lost, 0)
    }
    assert.equal(stats.received, 41)
  })

  test('the engine counters add closed legs to the totals and hand out their jitter once', ({
    assert,
  }) => {
    const counters = new MediaEngineStats()
    const reception = new ReceptionStats(8000, () => 0)
    reception.packet(rtp(1, 0))
    reception.packet(rtp(3, 320))
    const rtpLeg = {
      kind: 'rtp' as const,
      stats: { packetsReceived: 2, packetsSent: 5, packetsRejected: 1, sendFailures: 2 },
      reception,
    }
    const browser = {
      kind: 'webrtc' as const,
      stats: { packetsReceived: 7, packetsSent: 2, packetsRejected: 0, sendFailures: 0 },
    }
    counters.opened(rtpLeg)
    counters.opened(browser)
    assert.deepInclude(counters.figures(), {
      legs: { rtp: 1, webrtc: 1 },
      packetsReceived: 9,
      packetsSent: 7,
      packetsSendFailed: 2,
      packetsExpected: 3,
      packetsLost: 1,
    })
    counters.closed(rtpLeg)
    counters.closed(rtpLeg)
    const figures = counters.figures()
    assert.deepEqual(figures.legs, { rtp: 0, webrtc: 1 })
    assert.equal(figures.packetsReceived, 9, 'a closed leg still counts, once')
    assert.equal(figures.packetsLost, 1)
    assert.equal(figures.packetsSendFailed, 2)
    assert.lengthOf(counters.takeClosedJitter(), 1)
    assert.lengthOf(counters.takeClosedJitter(), 0)
  })
})
