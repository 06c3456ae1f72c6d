import { test } from '@japa/runner'
import { randomBytes } from 'node:crypto'
import { SrtcpSession } from 'werift'
import { createSrtcpContext, gcmSrtcpWithSessionKeys, type SrtpProfile } from '#media/srtp_context'
import { encodeCompound, parseRtcp } from '#media/rtcp_packet'

/*
 * SRTCP (RFC 3711 §3.4, RFC 7714 §9). RFC 3711 has no SRTCP packet vectors: the reference
 * packets are libsrtp's (test/srtp_driver.c, srtp_validate and srtp_validate_gcm, from master
 * keys) and RFC 7714 §17's (GCM, from session keys); werift's SrtcpSession is an independent
 * implementation to interoperate with both ways.
 */

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex')

/** RFC 3711 B.3's master key and salt (libsrtp's test_key): labels 3-5 have no RFC vector. */
const CM_KEY = hex('e1f97a0d3e018be0d64fa32c06de4139')
const CM_SALT = hex('0ec675ad498afeebb6960b3aabe6')
const GCM_KEY = hex('000102030405060708090a0b0c0d0e0f')
const GCM_SALT = hex('a0a1a2a3a4a5a6a7a8a9aaab')
const RTCP_PLAIN = hex('81c8000b cafebabe' + 'ab'.repeat(16))

/** A compound SR with one report block and a CNAME, as our RTCP session sends it. */
function compound(ssrc = 0x11223344) {
  return encodeCompound({
    ssrc,
    sender: {
      ntpSeconds: 3_900_000_000,
      ntpFraction: 0x12345678,
      rtpTimestamp: 160_000,
      packetCount: 500,
      octetCount: 80_000,
    },
    blocks: [
      {
        ssrc: 0x55667788,
        fractionLost: 3,
        cumulativeLost: 7,
        extendedHighestSeq: 70_000,
        jitter: 12,
        lastSr: 0xabcd1234,
        delaySinceLastSr: 65536,
      },
    ],
    cname: 'test@fluffycall',
  })
}

/** werift's profile numbers: 1 AES_CM_128_HMAC_SHA1_80, 7 AEAD_AES_128_GCM (no _32 there). */
function werift(profile: 1 | 7, key: Buffer, salt: Buffer) {
  return new SrtcpSession({
    keys: {
      localMasterKey: key,
      localMasterSalt: salt,
      remoteMasterKey: key,
      remoteMasterSalt: salt,
    },
    profile,
  })
}

test.group('SRTCP context', () => {
  test("AES_CM_128_HMAC_SHA1_80: libsrtp's reference SRTCP packet, both ways", ({ assert }) => {
    const expected = hex(`81c8000b cafebabe 7128035be487b9bdbef89041f977a5a8
      80000001 993e08cd54d6c1230798`)
    const sender = createSrtcpContext('AES_CM_128_HMAC_SHA1_80', CM_KEY, CM_SALT)
    assert.equal(sender.protect(RTCP_PLAIN).toString('hex'), expected.toString('hex'))
    const receiver = createSrtcpContext('AES_CM_128_HMAC_SHA1_80', CM_KEY, CM_SALT)
    const packet = Buffer.from(expected)
    assert.equal(receiver.unprotect(packet), RTCP_PLAIN.length)
    assert.equal(packet.subarray(0, RTCP_PLAIN.length).toString('hex'), RTCP_PLAIN.toString('hex'))
  })

  test("AEAD_AES_128_GCM: libsrtp's reference SRTCP packet, both ways", ({ assert }) => {
    const expected = hex(`81c8000b cafebabe c98b8b5df0392a55852b6c21ac8e7025
      c52c6fbea2b3b446ea31123ba88ce61e 80000001`)
    const sender = createSrtcpContext('AEAD_AES_128_GCM', GCM_KEY, GCM_SALT)
    assert.equal(sender.protect(RTCP_PLAIN).toString('hex'), expected.toString('hex'))
    const receiver = createSrtcpContext('AEAD_AES_128_GCM', GCM_KEY, GCM_SALT)
    const packet = Buffer.from(expected)
    assert.equal(receiver.unprotect(packet), RTCP_PLAIN.length)
    assert.equal(packet.subarray(0, RTCP_PLAIN.length).toString('hex'), RTCP_PLAIN.toString('hex'))
  })

  test('AEAD_AES_128_GCM: RFC 7714 §17.1 (encrypted) and §17.3 (E = 0, tag only) decrypt', ({
    assert,
  }) => {
    // Session key and salt ("Quid pro quo"), SSRC "Mars", SRTCP index 0x5d4; the subsections'
    // packet (the preamble of §17 prints a slightly different one)
    const key = hex('000102030405060708090a0b0c0d0e0f')
    const salt = hex('517569642070726f2071756f')
    const plain = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
      deadbeef deadbeef deadbeef deadbeef deadbeef`)
    const encrypted = hex(`81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d
      c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4`)
    const tagOnly = Buffer.concat([plain, hex('841dd968 3dd78ec9 2ae58790 125f62b3 000005d4')])
    for (const packet of [encrypted, tagOnly]) {
      const receiver = gcmSrtcpWithSessionKeys(key, salt)
      assert.equal(receiver.unprotect(packet), plain.length)
      assert.equal(packet.subarray(0, plain.length).toString('hex'), plain.toString('hex'))
      const tampered = Buffer.from(packet)
      tampered[tampered.length - 6] ^= 1
      assert.equal(gcmSrtcpWithSessionKeys(key, salt).unprotect(tampered), -1)
    }
  })

  for (const [profile, id] of [
    ['AES_CM_128_HMAC_SHA1_80', 1],
    ['AEAD_AES_128_GCM', 7],
  ] as const) {
    test(`${profile}: werift decrypts our SRTCP and we decrypt werift's`, ({ assert }) => {
      const key = randomBytes(16)
      const salt = randomBytes(profile === 'AEAD_AES_128_GCM' ? 12 : 14)
      const theirs = werift(id, key, salt)
      const ours = createSrtcpContext(profile, key, salt)
      const receiver = createSrtcpContext(profile, key, salt)
      for (let round = 0; round < 3; round++) {
        const plain = compound(0x11223344 + round)
        const sealed = ours.protect(plain)
        assert.equal(sealed.length, plain.length + ours.overhead)
        assert.equal(theirs.decrypt(sealed).toString('hex'), plain.toString('hex'))

        const fromWerift = theirs.encrypt(plain)
        const length = receiver.unprotect(fromWerift)
        assert.equal(length, plain.length)
        const parsed = parseRtcp(fromWerift, length)
        assert.equal(parsed?.reports[0].sender?.packetCount, 500)
        assert.equal(parsed?.cnames.get(0x11223344 + round), 'test@fluffycall')
      }
    })
  }

  test('a context that takes over from werift continues above the SRTCP index werift used', ({
    assert,
  }) => {
    const key = randomBytes(16)
    const salt = randomBytes(14)
    const theirs = werift(1, key, salt)
    const peer = createSrtcpContext('AES_CM_128_HMAC_SHA1_80', key, salt)
    for (let i = 0; i < 3; i++) {
      const sealed = theirs.encrypt(compound(0x11223344))
      assert.equal(peer.unprotect(sealed), sealed.length - 14)
    }
    const ours = createSrtcpContext('AES_CM_128_HMAC_SHA1_80', key, salt, 4)
    const sealed = ours.protect(compound(0x11223344))
    // E flag and index 4 after the compound packet: the peer's replay window takes it
    assert.equal(sealed.readUInt32BE(sealed.length - 14), 0x80000004)
    assert.equal(peer.unprotect(sealed), sealed.length - 14)
    // The same index again is a replay
    const again = createSrtcpContext('AES_CM_128_HMAC_SHA1_80', key, salt, 4)
    assert.equal(peer.unprotect(again.protect(compound(0x11223344))), -1)
  })

  test('AES_CM_128_HMAC_SHA1_32: the SRTCP tag stays 80 bits and it reads the _80 packets (RFC 4568 §6.2.2)', ({
    assert,
  }) => {
    const sender = createSrtcpContext('AES_CM_128_HMAC_SHA1_32', CM_KEY, CM_SALT)
    assert.equal(sender.overhead, 14)
    const receiver = createSrtcpContext('AES_CM_128_HMAC_SHA1_80', CM_KEY, CM_SALT)
    const sealed = sender.protect(RTCP_PLAIN)
    assert.equal(receiver.unprotect(sealed), RTCP_PLAIN.length)
  })

  for (const profile of [
    'AES_CM_128_HMAC_SHA1_80',
    'AES_CM_128_HMAC_SHA1_32',
    'AEAD_AES_128_GCM',
  ] as SrtpProfile[]) {
    test(`${profile}: a tampered, forged, replayed or truncated packet is refused; E = 0 is authenticated only`, ({
      assert,
    }) => {
      const saltLength = profile === 'AEAD_AES_128_GCM' ? 12 : 14
      const key = randomBytes(16)
      const salt = randomBytes(saltLength)
      const sender = createSrtcpContext(profile, key, salt)
      const receiver = createSrtcpContext(profile, key, salt)
      const plain = compound()

      const first = sender.protect(plain)
      const tampered = Buffer.from(first)
      tampered[12] ^= 1
      assert.equal(receiver.unprotect(tampered), -1)
      const forged = createSrtcpContext(profile, randomBytes(16), salt).protect(plain)
      assert.equal(receiver.unprotect(forged), -1)
      assert.equal(receiver.unprotect(first.subarray(0, 10)), -1)

      assert.isFalse(first.subarray(8, plain.length).equals(plain.subarray(8)), 'encrypted')
      const copy = Buffer.from(first)
      assert.equal(receiver.unprotect(first), plain.length)
      assert.equal(receiver.unprotect(copy), -1, 'a replay')

      // Out of order within the window is fine, once
      const second = sender.protect(plain)
      const third = sender.protect(plain)
      assert.equal(receiver.unprotect(Buffer.from(third)), plain.length)
      assert.equal(receiver.unprotect(Buffer.from(second)), plain.length)
      assert.equal(receiver.unprotect(second), -1)

      const clear = sender.protect(plain, plain.length, false)
      assert.equal(
        clear.readUInt32BE(plain.length + (profile === 'AEAD_AES_128_GCM' ? 16 : 0)) >>> 31,
        0
      )
      assert.isTrue(clear.subarray(0, plain.length).equals(plain), 'E = 0 leaves it in clear')
      const flipped = Buffer.from(clear)
      flipped[20] ^= 1
      assert.equal(receiver.unprotect(flipped), -1, 'but authenticated')
      assert.equal(receiver.unprotect(clear), plain.length)
      assert.isTrue(clear.subarray(0, plain.length).equals(plain))
    })
  }
})
