import { test } from '@japa/runner'
import OutboundRtpStream from '#media/outbound_rtp_stream'
import PortPool from '#media/port_pool'
import { rtpPayloadOffset } from '#media/rtp_header'

function packet(ssrc: number, seq: number, ts: number) {
  const buf = Buffer.alloc(172)
  buf[0] = 0x80
  buf[1] = 8
  buf.writeUInt16BE(seq & 0xffff, 2)
  buf.writeUInt32BE(ts >>> 0, 4)
  buf.writeUInt32BE(ssrc, 8)
  return buf
}

const header = (buf: Buffer) => ({
  seq: buf.readUInt16BE(2),
  ts: buf.readUInt32BE(4),
  ssrc: buf.readUInt32BE(8),
  marker: (buf[1] & 0x80) !== 0,
})

test.group('OutboundRtpStream', () => {
  test('keeps its SSRC and continues sequence and timestamps across a source change', ({
    assert,
  }) => {
    let now = 1_000
    const stream = new OutboundRtpStream(0xabcdef01, () => now)
    const out = []
    for (let i = 0; i < 3; i++) {
      const p = packet(1, 65534 + i, 0xfffffe00 + i * 160)
      stream.rewrite(p, true)
      out.push(header(p))
      now += 20
    }
    now += 60 // a 60 ms gap before the new fork speaks
    for (let i = 0; i < 3; i++) {
      const p = packet(2, 7 + i, 1_000_000 + i * 160)
      stream.rewrite(p, true)
      out.push(header(p))
      now += 20
    }
    assert.isTrue(out.every((h) => h.ssrc === 0xabcdef01))
    for (let i = 1; i < 6; i++) assert.equal(out[i].seq, (out[i - 1].seq + 1) & 0xffff)
    for (const i of [1, 2, 4, 5]) assert.equal((out[i].ts - out[i - 1].ts) >>> 0, 160)
    assert.equal((out[3].ts - out[2].ts) >>> 0, 80 * 8, 'timestamp follows the elapsed 80 ms')
    assert.isTrue(out[0].marker)
    assert.isTrue(out[3].marker)
    assert.isFalse(out[4].marker)
  })

  test('restart() rebases even when the SSRC stays; DTMF packets of one event keep one timestamp', ({
    assert,
  }) => {
    const now = 0
    const stream = new OutboundRtpStream(7, () => now)
    const a = packet(1, 100, 5000)
    stream.rewrite(a, true)
    stream.restart()
    const b = packet(1, 9000, 5000)
    stream.rewrite(b, true)
    assert.equal(header(b).seq, (header(a).seq + 1) & 0xffff)
    const first = packet(1, 9001, 9000)
    const second = packet(1, 9002, 9000)
    stream.rewrite(first, false)
    stream.rewrite(second, false)
    assert.equal(header(first).ts, header(second).ts)
    assert.isFalse(header(first).marker)
  })

  test('reads the payload offset with CSRCs and a header extension, and refuses what is not RTP', ({
    assert,
  }) => {
    const p = Buffer.alloc(40)
    p[0] = 0x80 | 0x10 | 2 // extension, two CSRCs
    p.writeUInt16BE(1, 12 + 8 + 2) // one 32-bit word of extension
    assert.equal(rtpPayloadOffset(p, 40), 12 + 8 + 4 + 4)
    assert.equal(rtpPayloadOffset(p, 20), -1)
    const rtcp = Buffer.alloc(20)
    rtcp[0] = 0x80
    rtcp[1] = 200
    assert.equal(rtpPayloadOffset(rtcp, 20), -1)
    assert.equal(rtpPayloadOffset(Buffer.alloc(20), 20), -1)
  })
})

test.group('PortPool', () => {
  test('hands out non-overlapping blocks round-robin and takes them back', ({ assert }) => {
    const pool = new PortPool([40000, 40009], 3)
    assert.equal(pool.capacity, 3)
    assert.deepEqual(
      [pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()],
      [40000, 40003, 40006, null]
    )
    pool.release(40003)
    assert.equal(pool.acquire(), 40003)
    assert.throws(() => new PortPool([50000, 40000], 2))
    assert.throws(() => new PortPool([40000, 40000], 2))
  })
})
