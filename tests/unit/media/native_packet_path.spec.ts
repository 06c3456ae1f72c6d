import { test } from '@japa/runner'
import dgram from 'node:dgram'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import {
  NATIVE_SRTP_PROFILES,
  NativeLegState,
  handOver,
  loadNativePacketPath,
  nativeUnavailable,
  type NativePacketPath,
} from '#media/native_packet_path'
import { createSrtpContext, type SrtpProfile } from '#media/srtp_context'
import ReceptionStats from '#media/reception_stats'
import { rtpPayloadOffset } from '#media/rtp_header'

/*
 * The C++ packet path (packages/media/native) against the TypeScript one it replaces per packet:
 * the same SRTP bytes both ways for every profile, and legs on real loopback sockets: relaying
 * with rewriting, SRTP across a sequence-number wrap, reception statistics equal to
 * ReceptionStats', rejection and latching, what is not RTP handed to JavaScript, malformed
 * datagrams survived, and a closed leg's port free at once. bin/lib.sh builds the addon for
 * bin/test: a missing addon fails here, it is not skipped.
 */

const LOCALHOST = '127.0.0.1'
const PROFILES: SrtpProfile[] = [
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
  'AEAD_AES_128_GCM',
]

function addon(): NativePacketPath {
  const native = loadNativePacketPath()
  if (native === null) throw new Error(`The C++ packet path is not built: ${nativeUnavailable()}`)
  return native
}

function rtp(
  seq: number,
  options: { pt?: number; ssrc?: number; ts?: number; payload?: Buffer } = {}
) {
  const payload = options.payload ?? randomBytes(160)
  const packet = Buffer.alloc(12 + payload.length + 16)
  packet[0] = 0x80
  packet[1] = options.pt ?? 0
  packet.writeUInt16BE(seq & 0xffff, 2)
  packet.writeUInt32BE((options.ts ?? seq * 160) >>> 0, 4)
  packet.writeUInt32BE((options.ssrc ?? 0x11223344) >>> 0, 8)
  payload.copy(packet, 12)
  return { packet, length: 12 + payload.length }
}

async function socket() {
  const s = dgram.createSocket('udp4')
  s.bind(0, LOCALHOST)
  await once(s, 'listening')
  return s
}

async function eventually<T>(what: string, probe: () => T | null | undefined | false, ms = 3000) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Datagrams a peer socket received. */
function inbox(s: dgram.Socket) {
  const received: { data: Buffer; port: number }[] = []
  s.on('message', (data, rinfo) => received.push({ data, port: rinfo.port }))
  return received
}

test.group('native packet path: SRTP', () => {
  for (const profile of PROFILES) {
    test(`${profile}: the same protected bytes as srtp_context.ts, and each opens the other's`, ({
      assert,
    }) => {
      const native = addon()
      const id = NATIVE_SRTP_PROFILES[profile]
      for (let round = 0; round < 20; round++) {
        const key = randomBytes(16)
        const salt = randomBytes(profile === 'AEAD_AES_128_GCM' ? 12 : 14)
        const seq = round === 0 ? 0xffff : Math.floor(Math.random() * 0x10000)
        const payload = randomBytes(1 + Math.floor(Math.random() * 300))
        const { packet, length } = rtp(seq, { payload, ssrc: 0x80000000 + round })
        const offset = rtpPayloadOffset(packet, length)
        const ours = createSrtpContext(profile, key, salt).protect(packet, length, offset)
        const theirs = Buffer.from(packet)
        const protectedLength = native.srtpTransform(id, key, salt, true, theirs, length, offset)
        assert.equal(protectedLength, ours.length)
        assert.isTrue(theirs.subarray(0, protectedLength).equals(ours), `round ${round}`)

        const opened = Buffer.from(theirs)
        assert.equal(
          createSrtpContext(profile, key, salt).unprotect(opened, protectedLength, offset),
          length
        )
        assert.isTrue(opened.subarray(12, length).equals(payload))
        const reopened = Buffer.from(ours)
        assert.equal(
          native.srtpTransform(id, key, salt, false, reopened, ours.length, offset),
          length
        )
        assert.isTrue(reopened.subarray(12, length).equals(payload))

        // One flipped bit anywhere fails authentication, and the packet is left as it came
        const forged = Buffer.from(ours)
        forged[Math.floor(Math.random() * ours.length)] ^= 1 << Math.floor(Math.random() * 8)
        const before = Buffer.from(forged)
        assert.equal(native.srtpTransform(id, key, salt, false, forged, ours.length, offset), -1)
        assert.isTrue(forged.equals(before))
      }
    })
  }

  test('bad keys are a TypeError, not a crash', ({ assert }) => {
    const native = addon()
    const { packet, length } = rtp(1)
    assert.throws(
      () => native.srtpTransform(1, randomBytes(15), randomBytes(14), true, packet, length, 12),
      /srtpTransform/
    )
  })
})

test.group('native packet path: legs on loopback sockets', (group) => {
  const cleanup: (() => void)[] = []
  group.each.teardown(() => {
    for (const step of cleanup.splice(0).reverse()) step()
  })

  /** A leg of the addon on a fresh socket; its JavaScript socket is closed after the test. */
  async function nativeLeg(onOther: Parameters<NativePacketPath['createLeg']>[0] = () => {}) {
    const native = addon()
    const s = await socket()
    const leg = native.createLeg(onOther)
    if (!handOver(native, leg, s, true)) throw new Error('the socket could not be handed over')
    const state = new NativeLegState(native, leg)
    cleanup.push(() => {
      state.close()
      s.close()
    })
    return { leg, state, port: s.address().port, socket: s }
  }

  /** A plain RTP leg: PCMU from and to `peerPort` only, no DTMF, sending as `ssrc`. */
  function plain(leg: number, peerPort: number, ssrc = 1) {
    const native = addon()
    native.configureReceive(leg, true, LOCALHOST, peerPort, false, 0, null, null, 0, -1, 8000)
    native.configureSend(leg, true, 0, null, null, 0, -1, 8000, ssrc)
  }

  async function peer() {
    const s = await socket()
    cleanup.push(() => s.close())
    return { socket: s, port: s.address().port, received: inbox(s) }
  }

  /** Two plain legs linked a → b: a hears `carrier`, b sends to `phone` (as SSRC 2). */
  async function linkedPlainLegs() {
    const native = addon()
    const [a, b] = [await nativeLeg(), await nativeLeg()]
    const [carrier, phone] = [await peer(), await peer()]
    plain(a.leg, carrier.port)
    plain(b.leg, phone.port, 2)
    native.link(a.leg, b.leg, false)
    return { native, a, b, carrier, phone }
  }

  test('relays plain RTP leg to leg: payload type, SSRC, sequence and timestamps rewritten, counters kept', async ({
    assert,
  }) => {
    const native = addon()
    const [a, b] = [await nativeLeg(), await nativeLeg()]
    const [carrier, phone] = [await peer(), await peer()]
    native.configureReceive(
      a.leg,
      true,
      LOCALHOST,
      carrier.port,
      false,
      0,
      null,
      null,
      0,
      101,
      8000
    )
    native.configureSend(a.leg, true, 0, null, null, 0, 101, 8000, 0xaabbccdd)
    native.configureReceive(b.leg, true, LOCALHOST, phone.port, false, 0, null, null, 8, -1, 8000)
    native.configureSend(b.leg, true, 0, null, null, 96, 97, 8000, 0x01020304)
    native.link(a.leg, b.leg, false)

    const sent = [10, 11, 12].map((seq) => rtp(seq))
    for (const { packet, length } of sent) carrier.socket.send(packet, 0, length, a.port, LOCALHOST)
    // DTMF (telephone-event 101 in, 97 out) and a payload type the leg did not negotiate (dropped)
    const dtmf = rtp(13, { pt: 101, payload: Buffer.from([1, 10, 0, 160]) })
    carrier.socket.send(dtmf.packet, 0, dtmf.length, a.port, LOCALHOST)
    const stray = rtp(14, { pt: 18 })
    carrier.socket.send(stray.packet, 0, stray.length, a.port, LOCALHOST)
    await eventually('four packets at the phone', () => phone.received.length === 4)
    await eventually('the stray packet counted', () => a.state.packetsReceived === 5)

    const out = phone.received.map(({ data }) => data)
    assert.deepEqual(
      out.map((p) => p[1] & 0x7f),
      [96, 96, 96, 97]
    )
    assert.isTrue(out.every((p) => p.readUInt32BE(8) === 0x01020304))
    const seqs = out.map((p) => p.readUInt16BE(2))
    assert.deepEqual(seqs, [
      seqs[0],
      (seqs[0] + 1) & 0xffff,
      (seqs[0] + 2) & 0xffff,
      (seqs[0] + 3) & 0xffff,
    ])
    const ts = out.map((p) => p.readUInt32BE(4))
    assert.equal((ts[1] - ts[0]) >>> 0, 160)
    // A new source starts with the marker bit (a new talkspurt), the rest keep theirs
    assert.equal(out[0][1] & 0x80, 0x80)
    assert.equal(out[1][1] & 0x80, 0)
    assert.isTrue(out[2].subarray(12).equals(sent[2].packet.subarray(12, sent[2].length)))
    assert.equal(a.state.relayed, 4)
    assert.equal(b.state.packetsSent, 4)
    assert.equal(b.state.octetsSent, 3 * 160 + 4)
    assert.equal(b.state.outboundSsrc, 0x01020304)
    assert.equal(b.state.lastTimestamp, ts[3])
    assert.closeTo(b.state.lastSentAt, Date.now(), 5000)
  })

  test('SRTP in, plain out and back, across a sequence-number wrap (the rollover counter)', async ({
    assert,
  }) => {
    const native = addon()
    const [browserSide, carrierSide] = [await nativeLeg(), await nativeLeg()]
    const [browser, carrier] = [await peer(), await peer()]
    const profile = 'AES_CM_128_HMAC_SHA1_80'
    const [inKey, inSalt, outKey, outSalt] = [
      randomBytes(16),
      randomBytes(14),
      randomBytes(16),
      randomBytes(14),
    ]
    native.configureReceive(
      browserSide.leg,
      false,
      LOCALHOST,
      browser.port,
      false,
      1,
      inKey,
      inSalt,
      0,
      -1,
      8000
    )
    native.configureSend(browserSide.leg, true, 1, outKey, outSalt, 0, -1, 8000, 7)
    plain(carrierSide.leg, carrier.port, 9)
    native.link(browserSide.leg, carrierSide.leg, false)
    native.link(carrierSide.leg, browserSide.leg, false)

    const browserOut = createSrtpContext(profile, inKey, inSalt)
    const browserIn = createSrtpContext(profile, outKey, outSalt)
    const seqs = [0xfffd, 0xfffe, 0xffff, 0, 1, 2]
    for (const seq of seqs) {
      const { packet, length } = rtp(seq)
      const srtp = browserOut.protect(packet, length, 12)
      browser.socket.send(srtp, browserSide.port, LOCALHOST)
      await eventually(
        `packet ${seq} at the carrier`,
        () => carrier.received.length === seqs.indexOf(seq) + 1
      )
    }
    assert.equal(browserSide.state.packetsRejected, 0)
    // And back: the carrier's plain RTP leaves SRTP-protected, the browser's context opens it
    // across its own wrap (our outbound sequence starts anywhere; 70 packets cover a wrap only
    // sometimes, so the wrap is forced on the way in above and checked by opening every packet)
    for (let i = 0; i < 70; i++) {
      const { packet, length } = rtp(i)
      carrier.socket.send(packet, 0, length, carrierSide.port, LOCALHOST)
    }
    await eventually('70 packets at the browser', () => browser.received.length === 70)
    for (const { data } of browser.received) {
      assert.equal(browserIn.unprotect(data, data.length, 12), data.length - 10)
    }
    // A forged packet is rejected and counted, not relayed
    const forged = browserOut.protect(rtp(3).packet, 172, 12)
    forged[20] ^= 0xff
    browser.socket.send(forged, browserSide.port, LOCALHOST)
    await eventually('the forged packet rejected', () => browserSide.state.packetsRejected === 1)
    assert.equal(browserSide.state.authenticationFailures, 1)
    assert.equal(carrier.received.length, seqs.length)
  })

  for (const profile of PROFILES) {
    test(`${profile} with an SDES MKI: the right one is cut out, a wrong one is an authentication failure`, async ({
      assert,
    }) => {
      const native = addon()
      const [phoneSide, carrierSide] = [await nativeLeg(), await nativeLeg()]
      const [phone, carrier] = [await peer(), await peer()]
      const id = NATIVE_SRTP_PROFILES[profile]
      const key = randomBytes(16)
      const salt = randomBytes(profile === 'AEAD_AES_128_GCM' ? 12 : 14)
      const mki = Buffer.from([0x00, 0x07])
      native.configureReceive(
        phoneSide.leg,
        true,
        LOCALHOST,
        phone.port,
        false,
        id,
        key,
        salt,
        0,
        -1,
        8000,
        mki
      )
      plain(carrierSide.leg, carrier.port, 9)
      native.link(phoneSide.leg, carrierSide.leg, false)
      const context = createSrtpContext(profile, key, salt)
      /** AES-CM: payload | MKI | tag; GCM: payload and tag | MKI (RFC 3711 §3.1, RFC 7714 §8). */
      const withMki = (srtp: Buffer, ours: Buffer) => {
        const tag = profile === 'AEAD_AES_128_GCM' ? 0 : context.overhead
        const at = srtp.length - tag
        return Buffer.concat([srtp.subarray(0, at), ours, srtp.subarray(at)])
      }
      const first = rtp(1)
      phone.socket.send(
        withMki(context.protect(first.packet, first.length, 12), mki),
        phoneSide.port,
        LOCALHOST
      )
      await eventually('relayed', () => carrier.received.length === 1)
      assert.isTrue(
        carrier.received[0].data.subarray(12).equals(first.packet.subarray(12, first.length))
      )
      const second = rtp(2)
      phone.socket.send(
        withMki(context.protect(second.packet, second.length, 12), Buffer.from([0x00, 0x08])),
        phoneSide.port,
        LOCALHOST
      )
      await eventually('rejected', () => phoneSide.state.authenticationFailures === 1)
      assert.lengthOf(carrier.received, 1)
    })
  }

  test('reception statistics: the same expected, lost and jitter as ReceptionStats on the same packets', async ({
    assert,
  }) => {
    const leg = await nativeLeg()
    const carrier = await peer()
    plain(leg.leg, carrier.port)
    const reference = new ReceptionStats(8000)
    // Packets 0-99 with every tenth missing, one late and one duplicate, then a new SSRC
    const order: [number, number][] = []
    for (let seq = 0; seq < 100; seq++) if (seq % 10 !== 5) order.push([seq, 1])
    order.splice(50, 0, [95, 1]) // late
    order.push([99, 1]) // duplicate
    for (let seq = 500; seq < 520; seq++) order.push([seq, 2])
    for (const [seq, ssrc] of order) {
      const { packet, length } = rtp(seq, { ssrc })
      reference.packet(packet)
      carrier.socket.send(packet, 0, length, leg.port, LOCALHOST)
    }
    await eventually('every packet counted', () => leg.state.packetsReceived === order.length)
    const reception = leg.state.reception
    assert.equal(reception.expected, reference.expected)
    assert.equal(reception.lost, reference.lost)
    assert.equal(reception.received, reference.received)
    assert.equal(reception.ssrc, 2)
    // Jitter depends on arrival times (sent in one burst here): both small, both in ms
    assert.isAtLeast(reception.jitterMs, 0)
    assert.isBelow(reception.jitterMs, 2000)
    const report = reception.takeReport()
    const expectedReport = reference.takeReport()
    assert.equal(report.ssrc, expectedReport.ssrc)
    assert.equal(report.extendedHighestSeq, expectedReport.extendedHighestSeq)
    assert.equal(report.cumulativeLost, expectedReport.cumulativeLost)
    assert.equal(report.fractionLost, expectedReport.fractionLost)
  })

  test('only the peer is accepted; latching takes the first packet from another port of its IP', async ({
    assert,
  }) => {
    const native = addon()
    const [a, b] = [await nativeLeg(), await nativeLeg()]
    const [carrier, elsewhere, phone] = [await peer(), await peer(), await peer()]
    plain(a.leg, carrier.port, 1)
    plain(b.leg, phone.port, 2)
    native.link(a.leg, b.leg, false)
    const one = rtp(1)
    elsewhere.socket.send(one.packet, 0, one.length, a.port, LOCALHOST)
    await eventually('rejected', () => a.state.packetsRejected === 1)
    assert.equal(a.state.packetsReceived, 0)

    // Latching: the signalled IP on any port, once; answers go where the packets came from
    native.configureReceive(a.leg, true, LOCALHOST, carrier.port, true, 0, null, null, 0, -1, 8000)
    elsewhere.socket.send(one.packet, 0, one.length, a.port, LOCALHOST)
    await eventually('latched', () => a.state.latched)
    assert.equal(a.state.peerPort, elsewhere.port)
    const back = rtp(5)
    native.link(b.leg, a.leg, false)
    phone.socket.send(back.packet, 0, back.length, b.port, LOCALHOST)
    await eventually('the answer at the latched port', () => elsewhere.received.length === 1)
    assert.lengthOf(carrier.received, 0)
    // Latched: the signalled port itself is now a stranger
    carrier.socket.send(one.packet, 0, one.length, a.port, LOCALHOST)
    await eventually('rejected after latching', () => a.state.packetsRejected === 2)
  })

  test('what is not RTP goes to JavaScript with its source; an unlinked leg hands RTP to its handler', async ({
    assert,
  }) => {
    const native = addon()
    const others: { data: Buffer; address: string; port: number; socket: number }[] = []
    const a = await nativeLeg((data, address, port, index) =>
      others.push({ data, address, port, socket: index })
    )
    const carrier = await peer()
    plain(a.leg, carrier.port)
    const handed: number[] = []
    native.setRtpHandler(a.leg, (packet, length, offset, kind) => {
      assert.equal(offset, 12)
      assert.equal(kind, 0)
      handed.push(packet.readUInt16BE(2), length)
    })
    const stun = Buffer.from('000100002112a442000000000000000000000000', 'hex')
    const rtcp = Buffer.from('80c9000100000001', 'hex')
    carrier.socket.send(stun, a.port, LOCALHOST)
    carrier.socket.send(rtcp, a.port, LOCALHOST)
    const packet = rtp(42)
    carrier.socket.send(packet.packet, 0, packet.length, a.port, LOCALHOST)
    await eventually(
      'two others and one RTP packet',
      () => others.length === 2 && handed.length === 2
    )
    assert.deepEqual(
      others.map((o) => [o.data.toString('hex'), o.address, o.port, o.socket]),
      [
        [stun.toString('hex'), LOCALHOST, carrier.port, 0],
        [rtcp.toString('hex'), LOCALHOST, carrier.port, 0],
      ]
    )
    assert.deepEqual(handed, [42, 172])
  })

  test('malformed datagrams: dropped or handed on, never relayed, never a crash', async ({
    assert,
  }) => {
    const native = addon()
    const [a, b] = [await nativeLeg(), await nativeLeg()]
    const [carrier, phone] = [await peer(), await peer()]
    plain(a.leg, carrier.port, 1)
    plain(b.leg, phone.port, 2)
    native.link(a.leg, b.leg, false)
    const bad = [
      Buffer.alloc(0),
      Buffer.from([0x80]),
      Buffer.from('80000001', 'hex'),
      // 15 CSRCs announced in a 20-byte datagram
      Buffer.concat([Buffer.from('8f000001000000000000000a', 'hex'), Buffer.alloc(8)]),
      // A header extension longer than the datagram
      Buffer.concat([
        Buffer.from('90000001000000000000000a', 'hex'),
        Buffer.from('bede0fff', 'hex'),
      ]),
      randomBytes(1500),
    ]
    for (const data of bad) carrier.socket.send(data, a.port, LOCALHOST)
    const good = rtp(7)
    carrier.socket.send(good.packet, 0, good.length, a.port, LOCALHOST)
    await eventually('the good packet relayed', () => phone.received.length === 1)
    assert.equal(phone.received[0].data.length, good.length)
    assert.equal(a.state.relayed, 1)
  })

  test('the linked leg closes while its partner still receives: packets dropped, the link gone', async ({
    assert,
  }) => {
    const { native, a, b, carrier, phone } = await linkedPlainLegs()
    const packet = rtp(1)
    carrier.socket.send(packet.packet, 0, packet.length, a.port, LOCALHOST)
    await eventually('relayed', () => phone.received.length === 1)
    b.state.close()
    for (let seq = 2; seq < 5; seq++) {
      const next = rtp(seq)
      carrier.socket.send(next.packet, 0, next.length, a.port, LOCALHOST)
    }
    await eventually('received after the close', () => a.state.packetsReceived === 4)
    assert.equal(a.state.relayed, 1)
    assert.lengthOf(phone.received, 1)
    // Linking to the closed leg again is no error: it stays unlinked
    native.link(a.leg, b.leg, false)
    const last = rtp(5)
    carrier.socket.send(last.packet, 0, last.length, a.port, LOCALHOST)
    await eventually('received', () => a.state.packetsReceived === 5)
    assert.equal(a.state.relayed, 1)
  })

  test('a send the operating system refuses is counted as a send failure, not as sent, and the leg goes on', async ({
    assert,
  }) => {
    const { native, a, b, carrier, phone } = await linkedPlainLegs()
    // b's peer moves to the broadcast address (as a peer's SDP may name it): the kernel refuses
    // the datagram (EACCES, the socket may not broadcast) before anything leaves the machine
    native.configureReceive(
      b.leg,
      true,
      '255.255.255.255',
      phone.port,
      false,
      0,
      null,
      null,
      0,
      -1,
      8000
    )
    for (let seq = 1; seq <= 3; seq++) {
      const next = rtp(seq)
      carrier.socket.send(next.packet, 0, next.length, a.port, LOCALHOST)
    }
    await eventually('three refused sends', () => b.state.sendFailures === 3)
    assert.equal(a.state.packetsReceived, 3)
    assert.equal(b.state.packetsSent, 0)
    assert.equal(b.state.stats.sendFailures, 3)
    assert.deepInclude(JSON.parse(JSON.stringify(b.state.stats)), {
      packetsSent: 0,
      sendFailures: 3,
    })

    // Back to a peer that takes them: sent and counted as sent, the failures stay
    plain(b.leg, phone.port, 2)
    const last = rtp(4)
    carrier.socket.send(last.packet, 0, last.length, a.port, LOCALHOST)
    await eventually('relayed to the phone', () => phone.received.length === 1)
    assert.equal(b.state.packetsSent, 1)
    assert.equal(b.state.sendFailures, 3)
  })

  test('a closed leg lets go of its socket at once: the port binds again after the socket closes', async ({
    assert,
  }) => {
    const native = addon()
    const s = await socket()
    const port = s.address().port
    const leg = native.createLeg(() => {})
    assert.isTrue(handOver(native, leg, s, true))
    const state = new NativeLegState(native, leg)
    state.close()
    await new Promise<void>((resolve) => s.close(() => resolve()))
    const again = dgram.createSocket('udp4')
    again.bind(port, LOCALHOST)
    await once(again, 'listening')
    again.close()
    // A closed leg's figures stay readable; calls on it do nothing
    assert.equal(state.packetsReceived, 0)
    native.link(leg, 0, false)
    native.setRtpHandler(leg, null)
    assert.isFalse(native.send(leg, rtp(1).packet, 172, 12, 0))
  })
})
