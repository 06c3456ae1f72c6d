import { test } from '@japa/runner'
import { randomBytes } from 'node:crypto'
import { RtpHeader, RtpPacket } from 'werift'
import { parseAudioSdp, type AudioDescription } from '#media/sdp/audio_sdp'
import { parseCryptoAttribute } from '#media/sdp/sdes_crypto'
import SdesNegotiation, { AUTH_FAILED, NOT_RTP } from '#media/sdp/sdes_negotiation'
import { createSrtcpContext, createSrtpContext, type SrtpContext } from '#media/srtp_context'
import { MediaNegotiationError } from '#media/types'

/** An RTP/SAVP description carrying the given attribute values (`crypto:...`). */
function description(attributes: string[]): AudioDescription {
  return parseAudioSdp(
    [
      'v=0',
      'o=- 1 1 IN IP4 192.0.2.10',
      's=-',
      'c=IN IP4 192.0.2.10',
      't=0 0',
      'm=audio 30000 RTP/SAVP 8',
      ...attributes.map((attribute) => `a=${attribute}`),
      '',
    ].join('\r\n')
  )
}

function rtp(seq: number, payload = randomBytes(160)) {
  return new RtpPacket(
    new RtpHeader({
      payloadType: 8,
      sequenceNumber: seq,
      timestamp: seq * 160,
      ssrc: 0x01020304,
      marker: false,
    }),
    payload
  ).serialize()
}

/** Protects with `from`, unprotects with `to`'s receiver: the plain length, or the error code. */
function roundTrip(from: SrtpContext, to: SdesNegotiation, seq = 1) {
  const plain = rtp(seq)
  const wire = from.protect(plain, plain.length, 12)
  const length = to.inbound!.unprotect(wire, wire.length)
  if (length >= 0) return wire.subarray(0, length).equals(plain) ? length : -99
  return length
}

/** A completes an offer/answer with B; returns the SDP attributes exchanged. */
function negotiate(a: SdesNegotiation, b: SdesNegotiation) {
  const offer = a.offer()
  const answer = b.answer(description(offer))
  answer.commit()
  a.applyAnswer(description([answer.attribute]))()
  return { offer, answer: answer.attribute }
}

function negotiationError(action: () => unknown): string {
  try {
    action()
  } catch (error) {
    if (error instanceof MediaNegotiationError) return error.message
    throw error
  }
  throw new Error('expected a MediaNegotiationError')
}

test.group('SDES offer/answer', () => {
  test('offers the 80-bit tag first, the 32-bit one second and AEAD_AES_128_GCM third, each with its own fresh key, kept on re-offers', ({
    assert,
  }) => {
    const leg = new SdesNegotiation()
    const offer = leg.offer()
    assert.lengthOf(offer, 3)
    assert.match(offer[0], /^crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}$/)
    assert.match(offer[1], /^crypto:2 AES_CM_128_HMAC_SHA1_32 inline:[A-Za-z0-9+/]{40}$/)
    // RFC 7714 §12: a 16-byte key and a 12-byte salt, 28 bytes, 40 base64 characters with padding
    assert.match(offer[2], /^crypto:3 AEAD_AES_128_GCM inline:[A-Za-z0-9+/]{38}==$/)
    assert.notEqual(offer[0].split('inline:')[1], offer[1].split('inline:')[1])
    assert.deepEqual(leg.offer(), offer)
    assert.notDeepEqual(new SdesNegotiation().offer(), offer)
  })

  test('our keys come from the injected random source, one draw per suite', ({ assert }) => {
    const draws: number[] = []
    const leg = new SdesNegotiation((size) => {
      draws.push(size)
      return Buffer.alloc(size, draws.length)
    })
    const offer = leg.offer()
    assert.deepEqual(draws, [30, 30, 28])
    assert.equal(offer[0].split('inline:')[1], Buffer.alloc(30, 1).toString('base64'))
    assert.equal(offer[1].split('inline:')[1], Buffer.alloc(30, 2).toString('base64'))
    assert.equal(offer[2].split('inline:')[1], Buffer.alloc(28, 3).toString('base64'))
    leg.offer()
    assert.lengthOf(draws, 3, 'a re-offer draws no new keys')
  })

  test('a peer that picks our GCM line (tag 3) protects both directions with AEAD_AES_128_GCM', ({
    assert,
  }) => {
    const a = new SdesNegotiation()
    const b = new SdesNegotiation()
    // B knows only GCM, as a peer that skips the AES-CM lines would answer
    const gcmOnly = a.offer().filter((line) => line.includes('AEAD_AES_128_GCM'))
    const answer = b.answer(description(gcmOnly))
    answer.commit()
    assert.match(answer.attribute, /^crypto:3 AEAD_AES_128_GCM inline:/)
    a.applyAnswer(description([answer.attribute]))()
    assert.equal(a.suite, 'AEAD_AES_128_GCM')
    assert.equal(b.suite, 'AEAD_AES_128_GCM')
    assert.isAbove(roundTrip(a.outbound!, b), 0)
    assert.isAbove(roundTrip(b.outbound!, a), 0)
  })

  test('two sides agree on the first suite and protect both directions with their own keys', ({
    assert,
  }) => {
    const a = new SdesNegotiation()
    const b = new SdesNegotiation()
    const { offer, answer } = negotiate(a, b)
    assert.match(answer, /^crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/)
    assert.notEqual(
      answer.split('inline:')[1],
      offer[0].split('inline:')[1],
      'the answerer adds its own key'
    )
    assert.equal(a.suite, 'AES_CM_128_HMAC_SHA1_80')
    assert.equal(b.suite, 'AES_CM_128_HMAC_SHA1_80')
    assert.equal(roundTrip(a.outbound!, b), 172)
    assert.equal(roundTrip(b.outbound!, a), 172)
    // Each direction has its own key: a packet reflected back to its sender does not authenticate
    assert.equal(roundTrip(a.outbound!, a, 2), AUTH_FAILED)
  })

  test("the answerer follows the offerer's preference among the lines it can use", ({ assert }) => {
    const peerKey = randomBytes(30).toString('base64')
    const result = new SdesNegotiation().answer(
      description([
        `crypto:9 F8_128_HMAC_SHA1_80 inline:${peerKey}`,
        `crypto:5 AES_CM_128_HMAC_SHA1_32 inline:${peerKey}|2^31`,
        `crypto:6 AES_CM_128_HMAC_SHA1_80 inline:${peerKey}`,
      ])
    )
    assert.match(result.attribute, /^crypto:5 AES_CM_128_HMAC_SHA1_32 inline:[A-Za-z0-9+/]{40}$/)
    assert.notInclude(result.attribute, peerKey)
  })

  test('an offer without a usable line is refused with the reasons, and nothing changes', ({
    assert,
  }) => {
    const key = randomBytes(30).toString('base64')
    const leg = new SdesNegotiation()
    const message = negotiationError(() =>
      leg.answer(
        description([
          `crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key.slice(0, 20)}`,
          `crypto:2 NULL inline:${key}`,
        ])
      )
    )
    assert.match(
      message,
      /No usable SDES crypto line in the offer \(tag 1: .*bytes.*; tag 2: unknown crypto suite NULL\)/
    )
    assert.notInclude(message, key.slice(0, 12))
    assert.match(
      negotiationError(() => leg.answer(description([]))),
      /there is no a=crypto line/
    )
    assert.isNull(leg.suite)
    assert.isNull(leg.inbound)
    assert.isNull(leg.outbound)
  })

  test('a peer that reflects our own key is refused', ({ assert }) => {
    const leg = new SdesNegotiation()
    const ours = leg.offer()
    assert.match(
      negotiationError(() => leg.answer(description([ours[0]]))),
      /tag 1: the key is our own/
    )
    leg.offer()
    assert.match(
      negotiationError(() => leg.applyAnswer(description([ours[0]]))),
      /key is our own/
    )
  })

  test('an answer must carry one line with a tag and suite from our offer', ({ assert }) => {
    const leg = new SdesNegotiation()
    const peerKey = randomBytes(30).toString('base64')
    assert.match(
      negotiationError(() =>
        leg.applyAnswer(description([`crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${peerKey}`]))
      ),
      /No SDES offer/
    )
    leg.offer()
    const cases: [string[], RegExp][] = [
      [[], /no a=crypto line/],
      [[`crypto:3 AES_CM_128_HMAC_SHA1_80 inline:${peerKey}`], /tag 3 .* is not one we offered/],
      [
        [`crypto:1 AES_CM_128_HMAC_SHA1_32 inline:${peerKey}`],
        /tag 1 \(AES_CM_128_HMAC_SHA1_32\) is not one we offered/,
      ],
      [
        [
          `crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${peerKey}`,
          `crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${peerKey}`,
        ],
        /exactly one/,
      ],
      [[`crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${peerKey.slice(1)}`], /tag 1: the inline key/],
    ]
    for (const [lines, expected] of cases)
      assert.match(
        negotiationError(() => leg.applyAnswer(description(lines))),
        expected
      )
    assert.isNull(leg.suite, 'a refused answer changes nothing')
    leg.applyAnswer(description([`crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${peerKey}`]))()
    assert.equal(leg.suite, 'AES_CM_128_HMAC_SHA1_32')
    assert.equal(leg.outbound!.overhead, 4)
    assert.match(
      negotiationError(() =>
        leg.applyAnswer(description([`crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${peerKey}`]))
      ),
      /No SDES offer/
    )
  })

  test('a wrong key fails authentication', ({ assert }) => {
    const a = new SdesNegotiation()
    const b = new SdesNegotiation()
    const offer = a.offer()
    // B is told another key than the one A sends with
    const wrong = offer.map((line) =>
      line.replace(/inline:\S+/, `inline:${randomBytes(30).toString('base64')}`)
    )
    const answer = b.answer(description(wrong))
    answer.commit()
    a.applyAnswer(description([answer.attribute]))()
    assert.equal(roundTrip(a.outbound!, b), AUTH_FAILED)
    assert.equal(roundTrip(b.outbound!, a), 172, 'the other direction is unaffected')
  })

  test('a re-offer with the same key keeps the contexts (and the rollover counter); a new key replaces them', ({
    assert,
  }) => {
    const a = new SdesNegotiation()
    const b = new SdesNegotiation()
    negotiate(a, b)
    const inbound = b.inbound
    const outbound = b.outbound
    assert.equal(roundTrip(a.outbound!, b, 65535), 172)

    // Hold: A re-offers the same keys; sequence numbers wrap across it
    negotiate(a, b)
    assert.strictEqual(b.inbound, inbound)
    assert.strictEqual(b.outbound, outbound)
    assert.equal(roundTrip(a.outbound!, b, 0), 172, 'seq 0 after 65535 is decrypted with ROC 1')

    // The peer (here an outside offerer) changes its key: the new one counts, the old one no longer
    const aKey = ownKeyOf(a)
    const oldKey = createSrtpContext('AES_CM_128_HMAC_SHA1_80', aKey.masterKey, aKey.masterSalt)
    const fresh = randomBytes(30)
    const reOffer = b.answer(
      description([`crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${fresh.toString('base64')}`])
    )
    reOffer.commit()
    assert.notStrictEqual(b.inbound, inbound)
    assert.strictEqual(b.outbound, outbound, 'our own key stays')
    const sender = createSrtpContext(
      'AES_CM_128_HMAC_SHA1_80',
      fresh.subarray(0, 16),
      fresh.subarray(16)
    )
    assert.equal(roundTrip(sender, b, 10), 172)
    assert.equal(roundTrip(oldKey, b, 11), AUTH_FAILED)
  })

  test("the peer's MKI sits between payload and tag: checked and stripped; RTCP is not RTP", ({
    assert,
  }) => {
    const material = randomBytes(30)
    const leg = new SdesNegotiation()
    leg
      .answer(
        description([
          `crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${material.toString('base64')}|2^31|258:2`,
        ])
      )
      .commit()
    const sender = createSrtpContext(
      'AES_CM_128_HMAC_SHA1_80',
      material.subarray(0, 16),
      material.subarray(16)
    )
    const withMki = (mki: Buffer, seq: number) => {
      const plain = rtp(seq)
      const wire = sender.protect(plain, plain.length, 12)
      return {
        plain,
        wire: Buffer.concat([wire.subarray(0, plain.length), mki, wire.subarray(plain.length)]),
      }
    }
    const good = withMki(Buffer.from([1, 2]), 1)
    assert.equal(leg.inbound!.unprotect(good.wire, good.wire.length), good.plain.length)
    assert.isTrue(good.wire.subarray(0, good.plain.length).equals(good.plain))
    const wrongMki = withMki(Buffer.from([1, 3]), 2)
    assert.equal(leg.inbound!.unprotect(wrongMki.wire, wrongMki.wire.length), AUTH_FAILED)
    const rtcp = Buffer.alloc(40)
    rtcp[0] = 0x80
    rtcp[1] = 200
    assert.equal(leg.inbound!.unprotect(rtcp, rtcp.length), NOT_RTP)
    assert.equal(leg.inbound!.unprotect(Buffer.alloc(8), 8), NOT_RTP)
  })

  test("GCM: the peer's MKI follows the tag (RFC 7714 §8): checked and stripped", ({ assert }) => {
    const material = randomBytes(28)
    const leg = new SdesNegotiation()
    leg
      .answer(
        description([`crypto:1 AEAD_AES_128_GCM inline:${material.toString('base64')}|258:2`])
      )
      .commit()
    const sender = createSrtpContext(
      'AEAD_AES_128_GCM',
      material.subarray(0, 16),
      material.subarray(16)
    )
    const withMki = (mki: Buffer, seq: number) => {
      const plain = rtp(seq)
      return { plain, wire: Buffer.concat([sender.protect(plain, plain.length, 12), mki]) }
    }
    const good = withMki(Buffer.from([1, 2]), 1)
    assert.equal(leg.inbound!.unprotect(good.wire, good.wire.length), good.plain.length)
    assert.isTrue(good.wire.subarray(0, good.plain.length).equals(good.plain))
    const wrongMki = withMki(Buffer.from([1, 3]), 2)
    assert.equal(leg.inbound!.unprotect(wrongMki.wire, wrongMki.wire.length), AUTH_FAILED)
  })

  test("SRTCP with the peer's MKI: before the tag (AES-CM) or at the end (GCM), checked and stripped", ({
    assert,
  }) => {
    const rtcp = Buffer.from('81c9000701020304' + 'ab'.repeat(24), 'hex')
    for (const [suite, length] of [
      ['AES_CM_128_HMAC_SHA1_80', 30],
      ['AEAD_AES_128_GCM', 28],
    ] as const) {
      const material = randomBytes(length)
      const leg = new SdesNegotiation()
      leg
        .answer(description([`crypto:1 ${suite} inline:${material.toString('base64')}|258:2`]))
        .commit()
      const sender = createSrtcpContext(suite, material.subarray(0, 16), material.subarray(16))
      // AES-CM: E|index, MKI, tag; GCM: tag, E|index, MKI (RFC 7714 §9)
      const tagAfterMki = suite === 'AEAD_AES_128_GCM' ? 0 : 10
      const withMki = (mki: Buffer) => {
        const wire = sender.protect(rtcp)
        const at = wire.length - tagAfterMki
        return Buffer.concat([wire.subarray(0, at), mki, wire.subarray(at)])
      }
      const good = withMki(Buffer.from([1, 2]))
      assert.equal(leg.inbound!.unprotectRtcp(good, good.length), rtcp.length, suite)
      assert.isTrue(good.subarray(0, rtcp.length).equals(rtcp))
      const wrong = withMki(Buffer.from([1, 3]))
      assert.equal(leg.inbound!.unprotectRtcp(wrong, wrong.length), AUTH_FAILED)
      // Our own SRTCP goes out with our key: the peer's key does not open it
      const ours = leg.protectRtcp(rtcp)!
      assert.equal(
        createSrtcpContext(suite, material.subarray(0, 16), material.subarray(16)).unprotect(ours),
        -1
      )
    }
  })
})

/** A's own sending key, read back from its offer as a peer would. */
function ownKeyOf(a: SdesNegotiation) {
  const result = parseCryptoAttribute(a.offer()[0].slice('crypto:'.length))
  if (!result.ok) throw new Error(result.rejection.reason)
  return result.crypto.key
}
