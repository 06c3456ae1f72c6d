import { test } from '@japa/runner'
import dgram from 'node:dgram'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { RtpHeader, RtpPacket, SrtpSession } from 'werift'
import type RtpSocketLeg from '#media/rtp_socket_leg'
import { createSrtpContext, type SrtpContext } from '#media/srtp_context'
import WeriftMediaEngine from '#media/werift_media_engine'
import { asRelayLeg } from '#media/relay_leg'
import { MediaNegotiationError, type MediaBridge, type RtpLeg } from '#media/types'
import { FakeCarrier, dtmfPayload, sleep, waitFor } from '#tests/e2e/media/media_peers'

/*
 * SDES-SRTP (RFC 4568) on RTP legs, over loopback: two of our legs negotiating with each other
 * through a wire tap (a UDP relay in the middle that records and can tamper), and our leg
 * against a raw-socket SDES carrier that encrypts with an independent context. Own port ranges.
 */

/** The packet path of the groups below: each runs on the C++ path and on the TypeScript one. */
let packetPath: 'native' | 'typescript' = 'native'

function newEngine() {
  return new WeriftMediaEngine({
    announcedIps: ['127.0.0.1'],
    webrtcPorts: [53800, 53819],
    rtpPorts: [53600, 53799],
    mediaTimeoutSeconds: 5,
    packetPath,
  })
}

async function udpSocket() {
  const socket = dgram.createSocket('udp4')
  socket.bind(0, '127.0.0.1')
  await once(socket, 'listening')
  return socket
}

const withPort = (sdp: string, port: number) => sdp.replace(/^m=audio \d+ /m, `m=audio ${port} `)
const inlineKeys = (sdp: string) =>
  [...sdp.matchAll(/a=crypto:(\d+) (\S+) inline:(\S+)/g)].map((m) => ({
    tag: m[1],
    suite: m[2],
    inline: m[3],
  }))

/** werift's SRTP (an independent implementation) with a key read from the SDP. */
function weriftDecryptor(inline: string) {
  const material = Buffer.from(inline, 'base64')
  const key = material.subarray(0, 16)
  const salt = material.subarray(16)
  return new SrtpSession({
    keys: {
      localMasterKey: key,
      localMasterSalt: salt,
      remoteMasterKey: key,
      remoteMasterSalt: salt,
    },
    profile: 1,
  })
}

/**
 * The wire between two SRTP legs: A talks to `towardsA`'s port, B to `towardsB`'s, each
 * datagram is recorded and passed on from the other socket (so each leg sees its signalled peer).
 */
class WireTap {
  readonly aToB: Buffer[] = []
  readonly bToA: Buffer[] = []
  /** Flip one payload bit in the next packet from A. */
  tamperNext = false

  private constructor(
    readonly towardsA: dgram.Socket,
    readonly towardsB: dgram.Socket,
    aPort: number,
    bPort: number
  ) {
    towardsA.on('message', (packet) => {
      if (this.tamperNext) {
        this.tamperNext = false
        packet[20] ^= 0x10
      }
      this.aToB.push(Buffer.from(packet))
      towardsB.send(packet, bPort, '127.0.0.1')
    })
    towardsB.on('message', (packet) => {
      this.bToA.push(Buffer.from(packet))
      towardsA.send(packet, aPort, '127.0.0.1')
    })
  }

  static async open(a: RtpLeg, b: RtpLeg) {
    return new WireTap(await udpSocket(), await udpSocket(), a.localPort, b.localPort)
  }

  /** SDP from A as B must see it: "send to the tap". */
  forB(sdp: string) {
    return withPort(sdp, this.towardsB.address().port)
  }

  forA(sdp: string) {
    return withPort(sdp, this.towardsA.address().port)
  }

  close() {
    this.towardsA.close()
    this.towardsB.close()
  }
}

interface SecuredHop {
  engine: WeriftMediaEngine
  carrierA: FakeCarrier
  carrierB: FakeCarrier
  secureA: RtpSocketLeg
  secureB: RtpSocketLeg
  tap: WireTap
  offer: string
  answer: string
  bridges: MediaBridge[]
}

/**
 * carrierA ─RTP─ plainA ⇄ secureA ═SRTP═ tap ═SRTP═ secureB ⇄ plainB ─RTP─ carrierB.
 * `tamperAnswer` changes B's answer on its way to A (a wrong key, for instance).
 */
async function securedHop(
  tamperAnswer: (sdp: string) => string = (sdp) => sdp
): Promise<SecuredHop> {
  const engine = newEngine()
  const carrierA = await FakeCarrier.open()
  const carrierB = await FakeCarrier.open()
  const plainA = await engine.createRtpLeg()
  const plainB = await engine.createRtpLeg()
  const secureA = (await engine.createRtpLeg({ srtp: true })) as RtpSocketLeg
  const secureB = (await engine.createRtpLeg({ srtp: true })) as RtpSocketLeg
  const tap = await WireTap.open(secureA, secureB)

  carrierA.useSdp(await plainA.createOffer({ codecs: ['PCMA'] }))
  await plainA.applyAnswer(carrierA.sdp())
  carrierB.useSdp(await plainB.createOffer({ codecs: ['PCMA'] }))
  await plainB.applyAnswer(carrierB.sdp())

  const offer = await secureA.createOffer({ codecs: ['PCMA', 'PCMU'] })
  const { sdp: answer } = await secureB.answer(tap.forB(offer), { codecs: ['PCMA'] })
  await secureA.applyAnswer(tamperAnswer(tap.forA(answer)))
  const bridges = [engine.bridge(plainA, secureA), engine.bridge(secureB, plainB)]
  return { engine, carrierA, carrierB, secureA, secureB, tap, offer, answer, bridges }
}

async function tearDown(hop: SecuredHop) {
  for (const bridge of hop.bridges) bridge.close()
  hop.tap.close()
  hop.carrierA.close()
  hop.carrierB.close()
  await hop.engine.close()
}

type AesCmSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32'

/** A carrier that speaks SDES itself: a UDP socket and SRTP contexts from the SDP, no engine. */
class SdesCarrier {
  /** Decrypted payloads, and the SRTP datagrams as they arrived. */
  readonly received: Buffer[] = []
  readonly wire: Buffer[] = []
  rejected = 0
  seq = 3000
  readonly suite: AesCmSuite
  #socket: dgram.Socket
  #target = 0
  #material = randomBytes(30)
  #out: SrtpContext
  #in: SrtpContext | null = null
  #mki: Buffer | null = null

  private constructor(socket: dgram.Socket, suite: AesCmSuite) {
    this.#socket = socket
    this.suite = suite
    this.#out = this.#context(this.#material)
    socket.on('message', (packet) => {
      this.wire.push(Buffer.from(packet))
      const length = this.#in ? this.#in.unprotect(packet, packet.length, 12) : -1
      if (length < 0) this.rejected++
      else this.received.push(Buffer.from(packet.subarray(12, length)))
    })
  }

  static async open(suite: AesCmSuite = 'AES_CM_128_HMAC_SHA1_80') {
    return new SdesCarrier(await udpSocket(), suite)
  }

  #context(material: Buffer) {
    return createSrtpContext(this.suite, material.subarray(0, 16), material.subarray(16))
  }

  get inline() {
    return this.#material.toString('base64')
  }

  /** A new master key from now on (the next SDP carries it). */
  rekey() {
    this.#material = randomBytes(30)
    this.#out = this.#context(this.#material)
  }

  /** Sends the MKI with every packet (the next SDP announces it). */
  useMki(mki: Buffer) {
    this.#mki = mki
  }

  sdp(options: { tag?: number; direction?: string; suite?: string; protocol?: string } = {}) {
    const port = this.#socket.address().port
    const mki = this.#mki
      ? `|2^31|${this.#mki.readUIntBE(0, this.#mki.length)}:${this.#mki.length}`
      : ''
    return [
      'v=0',
      'o=sdes-carrier 7 7 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${port} ${options.protocol ?? 'RTP/SAVP'} 8 96`,
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:96 telephone-event/8000',
      `a=${options.direction ?? 'sendrecv'}`,
      `a=crypto:${options.tag ?? 1} ${options.suite ?? this.suite} inline:${this.inline}${mki}`,
      '',
    ].join('\r\n')
  }

  /** Takes our leg's port and key (tag `tag` of its SDP). */
  useSdp(sdp: string, tag = '1') {
    this.#target = Number(/m=audio (\d+)/.exec(sdp)![1])
    const line = inlineKeys(sdp).find((entry) => entry.tag === tag)!
    this.#in = this.#context(Buffer.from(line.inline, 'base64'))
  }

  /** Sends one SRTP packet, optionally with another key than the announced one. */
  send(payload: Buffer, context: SrtpContext = this.#out) {
    const plain = new RtpPacket(
      new RtpHeader({
        payloadType: 8,
        sequenceNumber: this.seq++ & 0xffff,
        timestamp: this.seq * 160,
        ssrc: 0x5d5d5d5d,
        marker: false,
      }),
      payload
    ).serialize()
    let wire = context.protect(plain, plain.length, 12)
    if (this.#mki)
      wire = Buffer.concat([wire.subarray(0, plain.length), this.#mki, wire.subarray(plain.length)])
    this.#socket.send(wire, this.#target, '127.0.0.1')
  }

  get currentContext() {
    return this.#out
  }

  close() {
    this.#socket.close()
  }
}

for (const path of ['native', 'typescript'] as const) {
  test.group(`SDES-SRTP: two legs over loopback (${path} packet path)`, (group) => {
    group.setup(() => {
      packetPath = path
    })

    test('offer and answer carry fresh keys; audio both ways is encrypted on the wire and arrives intact', async ({
      assert,
      cleanup,
    }) => {
      const hop = await securedHop()
      cleanup(() => tearDown(hop))
      assert.match(hop.offer, /^m=audio \d+ RTP\/SAVP 8 0 101\r$/m)
      const offered = inlineKeys(hop.offer)
      assert.deepEqual(
        offered.map((entry) => [entry.tag, entry.suite]),
        [
          ['1', 'AES_CM_128_HMAC_SHA1_80'],
          ['2', 'AES_CM_128_HMAC_SHA1_32'],
          ['3', 'AEAD_AES_128_GCM'],
        ]
      )
      assert.match(hop.answer, /^m=audio \d+ RTP\/SAVP 8 101\r$/m)
      const answered = inlineKeys(hop.answer)
      assert.deepEqual(
        answered.map((entry) => [entry.tag, entry.suite]),
        [['1', 'AES_CM_128_HMAC_SHA1_80']]
      )
      assert.lengthOf(
        new Set([offered[0].inline, offered[1].inline, offered[2].inline, answered[0].inline]),
        4,
        'a key per leg and suite'
      )
      assert.equal(hop.secureA.srtpSuite, 'AES_CM_128_HMAC_SHA1_80')
      assert.equal(hop.secureB.srtpSuite, 'AES_CM_128_HMAC_SHA1_80')

      const fromA = Array.from({ length: 5 }, (_, i) => Buffer.alloc(160, 0x30 + i))
      const fromB = Array.from({ length: 5 }, (_, i) => Buffer.alloc(160, 0x60 + i))
      for (let i = 0; i < 5; i++) {
        hop.carrierA.send(8, fromA[i])
        hop.carrierB.send(8, fromB[i])
        await sleep(5)
      }
      await waitFor(
        () => hop.carrierB.received.length === 5 && hop.carrierA.received.length === 5,
        3000,
        '5 packets each way'
      )
      assert.deepEqual(
        hop.carrierB.received.map((packet) => packet.payload),
        fromA
      )
      assert.deepEqual(
        hop.carrierA.received.map((packet) => packet.payload),
        fromB
      )

      // On the wire: 12-byte header, ciphertext, 10-byte tag; never the plaintext
      assert.lengthOf(hop.tap.aToB, 5)
      assert.lengthOf(hop.tap.bToA, 5)
      for (const [wire, plain] of [
        ...hop.tap.aToB.map((w, i) => [w, fromA[i]]),
        ...hop.tap.bToA.map((w, i) => [w, fromB[i]]),
      ]) {
        assert.equal(wire.length, 12 + 160 + 10)
        assert.isFalse(wire.subarray(12, 172).equals(plain))
        assert.equal(
          wire.indexOf(plain.subarray(0, 8)),
          -1,
          'no run of plaintext bytes on the wire'
        )
      }
      // werift's SRTP decrypts what crossed the wire with the keys from the SDP: standard SRTP
      const aKey = weriftDecryptor(offered[0].inline)
      assert.isTrue(RtpPacket.deSerialize(aKey.decrypt(hop.tap.aToB[0])).payload.equals(fromA[0]))
      const bKey = weriftDecryptor(answered[0].inline)
      assert.isTrue(RtpPacket.deSerialize(bKey.decrypt(hop.tap.bToA[4])).payload.equals(fromB[4]))
      assert.equal(hop.secureA.authenticationFailures + hop.secureB.authenticationFailures, 0)
      assert.equal(asRelayLeg(hop.secureA).nativeLeg > 0, packetPath === 'native')
    })

    test("telephone-event crosses the SRTP hop both ways with each side's payload type", async ({
      assert,
      cleanup,
    }) => {
      const hop = await securedHop()
      cleanup(() => tearDown(hop))
      // Each carrier answered our plain offer: it sends with our payload type (101), receives with its own (96)
      for (const [duration, end] of [
        [160, false],
        [320, false],
        [480, true],
      ] as const) {
        hop.carrierA.send(101, dtmfPayload(7, end, duration), {
          timestamp: 16_000,
          marker: duration === 160,
        })
        hop.carrierB.send(101, dtmfPayload(3, end, duration), {
          timestamp: 24_000,
          marker: duration === 160,
        })
      }
      await waitFor(
        () => hop.carrierB.received.length === 3 && hop.carrierA.received.length === 3,
        3000,
        'DTMF each way'
      )
      // Between our legs the event goes with payload type 101 (our offer), inside SRTP
      const wirePts = hop.tap.aToB.map((packet) => packet[1] & 0x7f)
      assert.deepEqual(wirePts, [101, 101, 101])
      for (const [received, digit] of [
        [hop.carrierB.received, 7],
        [hop.carrierA.received, 3],
      ] as const) {
        assert.deepEqual(
          received.map((packet) => packet.payloadType),
          [96, 96, 96]
        )
        assert.isTrue(received.every((packet) => packet.payload[0] === digit))
        assert.deepEqual(
          received.map((packet) => packet.payload.readUInt16BE(2)),
          [160, 320, 480]
        )
        assert.isTrue((received[2].payload[1] & 0x80) !== 0, 'end bit')
      }
      for (const wire of hop.tap.aToB)
        assert.notEqual(wire[12], 7, 'the digit is not readable on the wire')
    })

    test('a tampered packet is dropped and counted; the stream goes on', async ({
      assert,
      cleanup,
    }) => {
      const hop = await securedHop()
      cleanup(() => tearDown(hop))
      hop.carrierA.send(8, Buffer.alloc(160, 1))
      await waitFor(() => hop.carrierB.received.length === 1, 3000, 'first packet')
      hop.tap.tamperNext = true
      hop.carrierA.send(8, Buffer.alloc(160, 2))
      await waitFor(
        () => hop.secureB.authenticationFailures === 1,
        3000,
        'the tampered packet refused'
      )
      hop.carrierA.send(8, Buffer.alloc(160, 3))
      await waitFor(() => hop.carrierB.received.length === 2, 3000, 'the next packet')
      assert.deepEqual(
        hop.carrierB.received.map((packet) => packet.payload[0]),
        [1, 3]
      )
      assert.equal(hop.secureB.stats.packetsRejected, 1)
      assert.equal(hop.secureB.stats.packetsReceived, 2)
    })

    test('a wrong key fails authentication: nothing from that side gets through', async ({
      assert,
      cleanup,
    }) => {
      const wrongKey = randomBytes(30).toString('base64')
      const hop = await securedHop((sdp) => sdp.replace(/inline:\S+/, `inline:${wrongKey}`))
      cleanup(() => tearDown(hop))
      for (let i = 0; i < 3; i++) {
        hop.carrierB.send(8, Buffer.alloc(160, i))
        hop.carrierA.send(8, Buffer.alloc(160, 0x40 + i))
      }
      await waitFor(
        () => hop.secureA.authenticationFailures === 3,
        3000,
        "B's packets refused at A"
      )
      await waitFor(() => hop.carrierB.received.length === 3, 3000, 'A to B unaffected')
      await sleep(50)
      assert.lengthOf(hop.carrierA.received, 0)
      assert.equal(hop.secureA.stats.packetsReceived, 0)
      assert.equal(hop.tap.bToA.length, 3, 'the packets did arrive at A')
    })

    test('hold and resume re-offers keep both keys and the stream keeps decrypting', async ({
      assert,
      cleanup,
    }) => {
      const hop = await securedHop()
      cleanup(() => tearDown(hop))
      const keysOf = (sdp: string) => inlineKeys(sdp).map((entry) => entry.inline)
      for (const direction of ['sendonly', 'sendrecv'] as const) {
        const reOffer = await hop.secureA.createOffer({ codecs: ['PCMA', 'PCMU'], direction })
        assert.deepEqual(keysOf(reOffer), keysOf(hop.offer))
        const { sdp: reAnswer, media } = await hop.secureB.answer(hop.tap.forB(reOffer), {
          codecs: ['PCMA'],
        })
        assert.equal(media.direction, direction === 'sendonly' ? 'recvonly' : 'sendrecv')
        assert.deepEqual(keysOf(reAnswer), keysOf(hop.answer))
        await hop.secureA.applyAnswer(hop.tap.forA(reAnswer))
      }
      hop.carrierA.send(8, Buffer.alloc(160, 9))
      hop.carrierB.send(8, Buffer.alloc(160, 8))
      await waitFor(
        () => hop.carrierB.received.length === 1 && hop.carrierA.received.length === 1,
        3000,
        'media after resume'
      )
      assert.equal(hop.secureA.authenticationFailures + hop.secureB.authenticationFailures, 0)
    })
  })

  test.group(`SDES-SRTP: a leg against an SDES carrier (${path} packet path)`, (group) => {
    group.setup(() => {
      packetPath = path
    })

    test("the carrier's offer is answered with our own key; a re-offer with a new key replaces only its key", async ({
      assert,
      cleanup,
    }) => {
      const engine = newEngine()
      const carrier = await SdesCarrier.open()
      const plain = await FakeCarrier.open()
      cleanup(async () => {
        carrier.close()
        plain.close()
        await engine.close()
      })
      const leg = (await engine.createRtpLeg({ srtp: true })) as RtpSocketLeg
      const other = await engine.createRtpLeg()
      const { sdp: answer } = await leg.answer(carrier.sdp({ tag: 4 }), { codecs: ['PCMA'] })
      carrier.useSdp(answer, '4')
      plain.useSdp((await other.answer(plain.sdp(), { codecs: ['PCMA'] })).sdp)
      const bridge = engine.bridge(leg, other)
      cleanup(() => bridge.close())
      const ourInline = inlineKeys(answer)[0].inline
      assert.notEqual(ourInline, carrier.inline)

      carrier.send(Buffer.alloc(160, 0x11))
      plain.send(8, Buffer.alloc(160, 0x22))
      await waitFor(
        () => plain.received.length === 1 && carrier.received.length === 1,
        3000,
        'audio both ways'
      )
      assert.equal(plain.received[0].payload[0], 0x11)
      assert.isTrue(carrier.received[0].equals(Buffer.alloc(160, 0x22)))

      // Hold with the same key: our answer keeps our key
      const held = await leg.answer(carrier.sdp({ tag: 4, direction: 'sendonly' }), {
        codecs: ['PCMA'],
      })
      assert.equal(inlineKeys(held.sdp)[0].inline, ourInline)
      assert.equal(held.media.direction, 'recvonly')

      // Resume with a new key: the old key no longer authenticates, the new one does; ours stays
      const oldContext = carrier.currentContext
      carrier.rekey()
      const resumed = await leg.answer(carrier.sdp({ tag: 4 }), { codecs: ['PCMA'] })
      assert.equal(inlineKeys(resumed.sdp)[0].inline, ourInline)
      carrier.send(Buffer.alloc(160, 0x33), oldContext)
      await waitFor(() => leg.authenticationFailures === 1, 3000, 'old key refused')
      carrier.send(Buffer.alloc(160, 0x44))
      await waitFor(() => plain.received.length === 2, 3000, 'new key accepted')
      assert.equal(plain.received[1].payload[0], 0x44)
    })

    test('a carrier that sends an MKI with its packets', async ({ assert, cleanup }) => {
      const engine = newEngine()
      const carrier = await SdesCarrier.open()
      const plain = await FakeCarrier.open()
      cleanup(async () => {
        carrier.close()
        plain.close()
        await engine.close()
      })
      carrier.useMki(Buffer.from([0, 0, 0, 1]))
      const leg = (await engine.createRtpLeg({ srtp: true })) as RtpSocketLeg
      const other = await engine.createRtpLeg()
      carrier.useSdp((await leg.answer(carrier.sdp(), { codecs: ['PCMA'] })).sdp)
      plain.useSdp((await other.answer(plain.sdp(), { codecs: ['PCMA'] })).sdp)
      const bridge = engine.bridge(leg, other)
      cleanup(() => bridge.close())
      carrier.send(Buffer.alloc(160, 0x55))
      await waitFor(() => plain.received.length === 1, 3000, 'audio with an MKI')
      assert.isTrue(plain.received[0].payload.equals(Buffer.alloc(160, 0x55)))
      assert.equal(leg.authenticationFailures, 0)
    })

    test('our offer to an SDES carrier that picks the 32-bit suite: both directions use it', async ({
      assert,
      cleanup,
    }) => {
      const engine = newEngine()
      const carrier = await SdesCarrier.open('AES_CM_128_HMAC_SHA1_32')
      const plain = await FakeCarrier.open()
      cleanup(async () => {
        carrier.close()
        plain.close()
        await engine.close()
      })
      const leg = (await engine.createRtpLeg({ srtp: true })) as RtpSocketLeg
      const other = await engine.createRtpLeg()
      const offer = await leg.createOffer({ codecs: ['PCMA'] })
      // Tag 2 is the 32-bit suite in our offer; an answer that names another suite for it is refused
      await assert.rejects(
        () => leg.applyAnswer(carrier.sdp({ tag: 2, suite: 'AES_CM_128_HMAC_SHA1_80' })),
        /tag 2 \(AES_CM_128_HMAC_SHA1_80\) is not one we offered/
      )
      await leg.applyAnswer(carrier.sdp({ tag: 2 }))
      carrier.useSdp(offer, '2')
      assert.equal(leg.srtpSuite, 'AES_CM_128_HMAC_SHA1_32')
      plain.useSdp((await other.answer(plain.sdp(), { codecs: ['PCMA'] })).sdp)
      const bridge = engine.bridge(leg, other)
      cleanup(() => bridge.close())

      carrier.send(Buffer.alloc(160, 0x66))
      plain.send(8, Buffer.alloc(160, 0x67))
      await waitFor(
        () => plain.received.length === 1 && carrier.received.length === 1,
        3000,
        'audio both ways'
      )
      assert.isTrue(plain.received[0].payload.equals(Buffer.alloc(160, 0x66)))
      assert.isTrue(carrier.received[0].equals(Buffer.alloc(160, 0x67)))
      assert.equal(carrier.wire[0].length, 12 + 160 + 4, 'a 4-byte tag')
      assert.equal(carrier.rejected, 0)
    })
  })
}

test.group('SDES-SRTP: what is refused', () => {
  test('an SRTP leg refuses plain RTP and offers without a usable crypto line (MediaNegotiationError → 488)', async ({
    assert,
    cleanup,
  }) => {
    const engine = newEngine()
    const carrier = await SdesCarrier.open()
    const plain = await FakeCarrier.open()
    cleanup(async () => {
      carrier.close()
      plain.close()
      await engine.close()
    })
    const leg = (await engine.createRtpLeg({ srtp: true })) as RtpSocketLeg
    await assert.rejects(
      () => leg.answer(plain.sdp(), { codecs: ['PCMA'] }),
      /requires SDES-SRTP .* sent RTP\/AVP/
    )
    await assert.rejects(
      () => leg.answer(carrier.sdp({ protocol: 'RTP/AVP' }), { codecs: ['PCMA'] }),
      MediaNegotiationError
    )
    const unknown = carrier.sdp({ suite: 'SUPER_CIPHER_256' })
    await assert.rejects(
      () => leg.answer(unknown, { codecs: ['PCMA'] }),
      /No usable SDES crypto line in the offer \(tag 1: unknown crypto suite SUPER_CIPHER_256\)/
    )
    const noCrypto = unknown.replace(/a=crypto:.*\r\n/, '')
    await assert.rejects(
      () => leg.answer(noCrypto, { codecs: ['PCMA'] }),
      /there is no a=crypto line/
    )
    const error = await leg
      .answer(carrier.sdp().replace(/inline:(\S{10})/, 'inline:$1$'), { codecs: ['PCMA'] })
      .catch((caught) => caught)
    assert.instanceOf(error, MediaNegotiationError)
    assert.notInclude(error.message, carrier.inline.slice(0, 10), 'no key material in the reason')
    assert.isNull(leg.negotiated)
    assert.isNull(leg.srtpSuite)

    await leg.createOffer({ codecs: ['PCMA'] })
    await assert.rejects(() => leg.applyAnswer(plain.sdp()), MediaNegotiationError)
    assert.isNull(leg.negotiated)
  })

  test('a plain leg refuses RTP/SAVP and never uses crypto lines of a plain RTP/AVP offer', async ({
    assert,
    cleanup,
  }) => {
    const engine = newEngine()
    const sdesCarrier = await SdesCarrier.open()
    const carrier = await FakeCarrier.open()
    const phone = await FakeCarrier.open()
    cleanup(async () => {
      sdesCarrier.close()
      carrier.close()
      phone.close()
      await engine.close()
    })
    const leg = (await engine.createRtpLeg()) as RtpSocketLeg
    await assert.rejects(
      () => leg.answer(sdesCarrier.sdp(), { codecs: ['PCMA'] }),
      /Secure RTP \(RTP\/SAVP\) is not enabled/
    )
    const offer = await leg.createOffer({ codecs: ['PCMA'] })
    assert.match(offer, /^m=audio \d+ RTP\/AVP /m)
    assert.notInclude(offer, 'a=crypto')
    await assert.rejects(() => leg.applyAnswer(sdesCarrier.sdp()), MediaNegotiationError)
    assert.isNull(leg.negotiated)

    // RTP/AVP with crypto lines (best-effort SRTP): answered plain, and plain packets flow both ways
    const bestEffort = carrier
      .sdp()
      .replace(
        'a=sendrecv\r\n',
        `a=sendrecv\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${sdesCarrier.inline}\r\n`
      )
    assert.include(bestEffort, 'a=crypto:1')
    const { sdp } = await leg.answer(bestEffort, { codecs: ['PCMA'] })
    assert.match(sdp, /^m=audio \d+ RTP\/AVP /m)
    assert.notInclude(sdp, 'a=crypto')
    assert.isNull(leg.srtpSuite)
    carrier.useSdp(sdp)
    const other = await engine.createRtpLeg()
    phone.useSdp((await other.answer(phone.sdp(), { codecs: ['PCMA'] })).sdp)
    const bridge = engine.bridge(leg, other)
    cleanup(() => bridge.close())
    carrier.send(8, Buffer.alloc(160, 0x77))
    phone.send(8, Buffer.alloc(160, 0x78))
    await waitFor(
      () => phone.received.length === 1 && carrier.received.length === 1,
      3000,
      'plain audio both ways'
    )
    assert.isTrue(
      carrier.received[0].payload.equals(Buffer.alloc(160, 0x78)),
      'unencrypted towards the carrier'
    )
    assert.isTrue(phone.received[0].payload.equals(Buffer.alloc(160, 0x77)))
  })
})
