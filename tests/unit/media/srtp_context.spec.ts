import { test } from '@japa/runner'
import { randomBytes } from 'node:crypto'
import { RtpHeader, RtpPacket, SrtpSession } from 'werift'
import { createSrtpContext, deriveSessionKey, type SrtpProfile } from '#media/srtp_context'
import { rtpPayloadOffset } from '#media/rtp_header'

/** The profiles werift implements (it has no 32-bit tag; see srtp_context_sha1_32.spec.ts). */
type WeriftProfile = Exclude<SrtpProfile, 'AES_CM_128_HMAC_SHA1_32'>
const PROFILE_IDS: Record<WeriftProfile, number> = {
  AES_CM_128_HMAC_SHA1_80: 1,
  AEAD_AES_128_GCM: 7,
}

function rtp(seq: number, payload = randomBytes(160), ssrc = 0x11223344) {
  return new RtpPacket(
    new RtpHeader({
      payloadType: 0,
      sequenceNumber: seq,
      timestamp: seq * 160,
      ssrc,
      marker: false,
    }),
    payload
  )
}

/** werift's SrtpSession with the same keys: the reference implementation we must interoperate with. */
function weriftPair(profile: WeriftProfile) {
  const key = randomBytes(16)
  const salt = randomBytes(profile === 'AEAD_AES_128_GCM' ? 12 : 14)
  const session = new SrtpSession({
    keys: {
      localMasterKey: key,
      localMasterSalt: salt,
      remoteMasterKey: key,
      remoteMasterSalt: salt,
    },
    profile: PROFILE_IDS[profile] as 1 | 7,
  })
  return { key, salt, session }
}

test.group('SRTP context', () => {
  test('derives the session keys of RFC 3711 appendix B.3', ({ assert }) => {
    const masterKey = Buffer.from('E1F97A0D3E018BE0D64FA32C06DE4139', 'hex')
    const masterSalt = Buffer.from('0EC675AD498AFEEBB6960B3AABE6', 'hex')
    assert.equal(
      deriveSessionKey(masterKey, masterSalt, 0, 16).toString('hex').toUpperCase(),
      'C61E7A93744F39EE10734AFE3FF7A087'
    )
    assert.equal(
      deriveSessionKey(masterKey, masterSalt, 2, 14).toString('hex').toUpperCase(),
      '30CBBC08863D8C85D49DB34A9AE1'
    )
    assert.equal(
      deriveSessionKey(masterKey, masterSalt, 1, 20).toString('hex').toUpperCase(),
      'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4'
    )
  })

  for (const profile of ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'] as const) {
    test(`${profile}: decrypts werift's packets and werift decrypts ours, across a sequence wrap`, ({
      assert,
    }) => {
      const { key, salt, session } = weriftPair(profile)
      const ours = createSrtpContext(profile, key, salt)
      const theirs = createSrtpContext(profile, key, salt)
      for (const seq of [65533, 65534, 65535, 0, 1, 2]) {
        const packet = rtp(seq)
        const plain = packet.serialize()

        const fromWerift = session.encrypt(packet.payload, packet.header)
        const length = ours.unprotect(
          fromWerift,
          fromWerift.length,
          rtpPayloadOffset(fromWerift, fromWerift.length)
        )
        assert.equal(length, plain.length)
        assert.isTrue(fromWerift.subarray(0, length).equals(plain), `seq ${seq} decrypts`)

        const protectedPacket = theirs.protect(plain, plain.length, 12)
        assert.equal(protectedPacket.length, plain.length + ours.overhead)
        assert.isTrue(session.decrypt(protectedPacket).equals(plain), `werift decrypts seq ${seq}`)
      }
    })

    test(`${profile}: packets of mixed sizes, two SSRCs, reordered and jumping, equal werift's both ways`, ({
      assert,
    }) => {
      // AES-CM makes its keystream for several packets ahead: every miss and reuse of that batch
      const { key, salt, session } = weriftPair(profile)
      const sender = createSrtpContext(profile, key, salt)
      const receiver = createSrtpContext(profile, key, salt)
      const sizes = [160, 160, 0, 1, 15, 16, 17, 160, 1000, 160, 1400, 33, 160, 160]
      const steps: [number, number][] = []
      let seq = 1000
      for (let i = 0; i < 120; i++) {
        const ssrc = i % 7 === 3 ? 0x55667788 : 0x11223344
        // A late packet, a jump forward, otherwise the next number
        seq = i % 11 === 5 ? seq - 3 : i % 23 === 9 ? seq + 40 : seq + 1
        steps.push([ssrc, seq])
      }
      for (const [i, [ssrc, number]] of steps.entries()) {
        const packet = rtp(number, randomBytes(sizes[i % sizes.length]), ssrc)
        const plain = packet.serialize()
        const ours = sender.protect(plain, plain.length, 12)
        if (profile === 'AES_CM_128_HMAC_SHA1_80') {
          // AES-CM is deterministic: the same bytes as werift's for the same index
          const theirs = session.encrypt(packet.payload, packet.header)
          assert.equal(ours.toString('hex'), theirs.toString('hex'), `packet ${i}`)
        }
        assert.isTrue(session.decrypt(Buffer.from(ours)).equals(plain), `werift decrypts ${i}`)
        const length = receiver.unprotect(ours, ours.length, 12)
        assert.equal(length, plain.length, `we decrypt ${i}`)
        assert.isTrue(ours.subarray(0, length).equals(plain))
      }
    })

    test(`${profile}: a tampered packet fails authentication and is left for the caller to count`, ({
      assert,
    }) => {
      const { key, salt } = weriftPair(profile)
      const sender = createSrtpContext(profile, key, salt)
      const receiver = createSrtpContext(profile, key, salt)
      const plain = rtp(100).serialize()
      const good = sender.protect(plain, plain.length, 12)
      const bad = Buffer.from(good)
      bad[40] ^= 1
      assert.equal(receiver.unprotect(bad, bad.length, 12), -1)
      assert.equal(receiver.unprotect(good, good.length, 12), plain.length)
      const other = createSrtpContext(profile, randomBytes(16), salt)
      const forged = other.protect(plain, plain.length, 12)
      assert.equal(receiver.unprotect(forged, forged.length, 12), -1)
    })
  }
})
