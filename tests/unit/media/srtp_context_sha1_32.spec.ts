import { test } from '@japa/runner'
import { randomBytes } from 'node:crypto'
import { RtpHeader, RtpPacket, SrtpSession } from 'werift'
import { createSrtpContext } from '#media/srtp_context'

/*
 * AES_CM_128_HMAC_SHA1_32 is the _80 transform with the HMAC cut to 4 bytes (RFC 3711 §5.2,
 * RFC 4568 §6.2.2). werift has no _32, so we check against werift's _80 with the tag shortened.
 */

function rtp(seq: number) {
  return new RtpPacket(
    new RtpHeader({
      payloadType: 8,
      sequenceNumber: seq,
      timestamp: seq * 160,
      ssrc: 0x55667788,
      marker: false,
    }),
    randomBytes(160)
  ).serialize()
}

test.group('SRTP context: AES_CM_128_HMAC_SHA1_32', () => {
  test('equals werift AES-CM-80 with the tag cut to 4 bytes, both ways, across a sequence wrap', ({
    assert,
  }) => {
    const key = randomBytes(16)
    const salt = randomBytes(14)
    const werift = new SrtpSession({
      keys: {
        localMasterKey: key,
        localMasterSalt: salt,
        remoteMasterKey: key,
        remoteMasterSalt: salt,
      },
      profile: 1,
    })
    const sender = createSrtpContext('AES_CM_128_HMAC_SHA1_32', key, salt)
    const receiver = createSrtpContext('AES_CM_128_HMAC_SHA1_32', key, salt)
    assert.equal(sender.overhead, 4)
    assert.equal(sender.profile, 'AES_CM_128_HMAC_SHA1_32')
    for (const seq of [65534, 65535, 0, 1]) {
      const plain = rtp(seq)
      const ours = sender.protect(plain, plain.length, 12)
      const reference = werift.encrypt(plain.subarray(12), RtpPacket.deSerialize(plain).header)
      assert.equal(ours.length, plain.length + 4)
      assert.isTrue(
        ours.equals(reference.subarray(0, plain.length + 4)),
        `seq ${seq}: werift's packet with a 32-bit tag`
      )

      const incoming = Buffer.from(reference.subarray(0, plain.length + 4))
      assert.equal(receiver.unprotect(incoming, incoming.length, 12), plain.length)
      assert.isTrue(incoming.subarray(0, plain.length).equals(plain))
    }
  })

  test('a flipped bit or a key of the 80-bit suite fails authentication', ({ assert }) => {
    const key = randomBytes(16)
    const salt = randomBytes(14)
    const sender = createSrtpContext('AES_CM_128_HMAC_SHA1_32', key, salt)
    const receiver = createSrtpContext('AES_CM_128_HMAC_SHA1_32', key, salt)
    const plain = rtp(7)
    const good = sender.protect(plain, plain.length, 12)
    const bad = Buffer.from(good)
    bad[20] ^= 0x01
    assert.equal(receiver.unprotect(bad, bad.length, 12), -1)
    assert.equal(receiver.unprotect(Buffer.from(good), good.length, 12), plain.length)
    const other = createSrtpContext('AES_CM_128_HMAC_SHA1_32', randomBytes(16), salt)
    const forged = other.protect(plain, plain.length, 12)
    assert.equal(receiver.unprotect(forged, forged.length, 12), -1)
  })
})
