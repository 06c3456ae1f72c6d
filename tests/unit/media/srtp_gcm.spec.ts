import { test } from '@japa/runner'
import { createCipheriv, randomBytes, randomInt } from 'node:crypto'
import { gcmSrtcpWithSessionKeys, gcmSrtpWithSessionKeys } from '#media/srtp_context'
import { rtpPayloadOffset } from '#media/rtp_header'

/*
 * AEAD_AES_128_GCM (RFC 7714) is ours: counter blocks from a long-lived AES-ECB cipher, batched
 * over packets, and GHASH in JavaScript. node:crypto's aes-128-gcm is the reference here: RFC
 * 7714's vectors (§16 SRTP, §17 SRTCP, on session keys) and random packets of every shape.
 */

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex')

/** RFC 7714 §16-17: session key, salt ("Quid pro quo"). */
const KEY = hex('000102030405060708090a0b0c0d0e0f')
const SALT = hex('517569642070726f2071756f')

/** node:crypto's GCM: [ciphertext, tag]. */
function referenceGcm(key: Buffer, nonce: Buffer, aad: Buffer, plain: Buffer): [Buffer, Buffer] {
  const cipher = createCipheriv('aes-128-gcm', key, nonce)
  cipher.setAAD(aad)
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()])
  return [encrypted, cipher.getAuthTag()]
}

/** (00 00 || SSRC || ROC || SEQ) XOR salt (RFC 7714 §8.1); SRTCP: ROC 0 and the 31-bit index. */
function iv(salt: Buffer, ssrc: number, high: number, low: number, lowBytes: 2 | 4) {
  const out = Buffer.alloc(12)
  out.writeUInt32BE(ssrc >>> 0, 2)
  if (lowBytes === 2) {
    out.writeUInt32BE(high >>> 0, 6)
    out.writeUInt16BE(low, 10)
  } else {
    out.writeUInt32BE(low >>> 0, 8)
  }
  for (let i = 0; i < 12; i++) out[i] ^= salt[i]
  return out
}

/** The reference SRTP packet for `plain` (its header as AAD). */
function referenceSrtp(key: Buffer, salt: Buffer, plain: Buffer, payloadOffset: number, roc = 0) {
  const [encrypted, tag] = referenceGcm(
    key,
    iv(salt, plain.readUInt32BE(8), roc, plain.readUInt16BE(2), 2),
    plain.subarray(0, payloadOffset),
    plain.subarray(payloadOffset)
  )
  return Buffer.concat([plain.subarray(0, payloadOffset), encrypted, tag])
}

/** An RTP packet with `csrcs` CSRCs, an extension of `extensionWords` words or none, padding or not. */
function randomRtp(
  seq: number,
  ssrc: number,
  payload: number,
  csrcs: number,
  extensionWords: number
) {
  const extension = extensionWords >= 0
  const header = Buffer.alloc(12 + csrcs * 4 + (extension ? 4 + extensionWords * 4 : 0))
  header[0] = 0x80 | (extension ? 0x10 : 0) | csrcs
  header[1] = randomInt(128)
  header.writeUInt16BE(seq, 2)
  header.writeUInt32BE(randomInt(2 ** 32), 4)
  header.writeUInt32BE(ssrc >>> 0, 8)
  randomBytes(header.length - 12).copy(header, 12)
  if (extension) header.writeUInt16BE(extensionWords, 12 + csrcs * 4 + 2)
  return Buffer.concat([header, randomBytes(payload)])
}

/** Payload lengths around the block size and a full MTU, 0 included. */
const randomPayload = () =>
  [0, 1, 15, 16, 17, 31, 32, 33, 160, 320, 1200][randomInt(11)] +
  (randomInt(4) === 0 ? randomInt(1400) : 0)

test.group('SRTP and SRTCP with AEAD_AES_128_GCM', () => {
  test('RFC 7714 §16.1: the SRTP packet both ways', ({ assert }) => {
    const plain = hex(`8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976
      69736120 696e2070 61727465 73207472 6573`)
    const expected = hex(`8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
      0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce`)
    const sender = gcmSrtpWithSessionKeys(KEY, SALT)
    assert.equal(sender.protect(plain, plain.length, 12).toString('hex'), expected.toString('hex'))
    const packet = Buffer.from(expected)
    assert.equal(
      gcmSrtpWithSessionKeys(KEY, SALT).unprotect(packet, packet.length, 12),
      plain.length
    )
    assert.equal(packet.subarray(0, plain.length).toString('hex'), plain.toString('hex'))
  })

  test('RFC 7714 §17.1 and §17.3: the SRTCP packet encrypted and authenticated only, both ways', ({
    assert,
  }) => {
    const plain = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
      deadbeef deadbeef deadbeef deadbeef deadbeef`)
    const encrypted = hex(`81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d
      c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4`)
    const tagOnly = Buffer.concat([plain, hex('841dd968 3dd78ec9 2ae58790 125f62b3 000005d4')])
    const sender = gcmSrtcpWithSessionKeys(KEY, SALT, 0x5d4)
    assert.equal(sender.protect(plain).toString('hex'), encrypted.toString('hex'))
    const clearSender = gcmSrtcpWithSessionKeys(KEY, SALT, 0x5d4)
    assert.equal(
      clearSender.protect(plain, plain.length, false).toString('hex'),
      tagOnly.toString('hex')
    )
    for (const sealed of [encrypted, tagOnly]) {
      const packet = Buffer.from(sealed)
      assert.equal(gcmSrtcpWithSessionKeys(KEY, SALT).unprotect(packet), plain.length)
      assert.equal(packet.subarray(0, plain.length).toString('hex'), plain.toString('hex'))
    }
  })

  test('SRTP: random keys, headers (CSRCs, extensions) and payloads equal node:crypto both ways, across batches and a ROC wrap', ({
    assert,
  }) => {
    for (let round = 0; round < 12; round++) {
      const key = randomBytes(16)
      const salt = randomBytes(12)
      const sender = gcmSrtpWithSessionKeys(key, salt)
      const receiver = gcmSrtpWithSessionKeys(key, salt)
      const ssrc = randomInt(2 ** 32)
      // Half the rounds cross the sequence wrap (ROC 0 -> 1) inside a keystream batch
      let seq = round % 2 === 0 ? 65520 : randomInt(60000)
      let roc = 0
      for (let i = 0; i < 40; i++) {
        const plain = randomRtp(seq, ssrc, randomPayload(), randomInt(16), randomInt(3) - 1)
        const offset = rtpPayloadOffset(plain, plain.length)
        const expected = referenceSrtp(key, salt, plain, offset, roc)
        const ours = sender.protect(plain, plain.length, offset)
        assert.equal(ours.toString('hex'), expected.toString('hex'), `round ${round} packet ${i}`)
        assert.equal(receiver.unprotect(expected, expected.length, offset), plain.length)
        assert.isTrue(expected.subarray(0, plain.length).equals(plain))
        // Mostly the next number, sometimes a jump (a new batch) or a late packet
        const step = i % 9 === 4 ? 30 : 1
        seq += step
        if (seq > 0xffff) {
          seq -= 0x10000
          roc++
        }
      }
    }
  })

  test('SRTCP: random keys, indexes and compound lengths equal node:crypto both ways, E = 1 and E = 0', ({
    assert,
  }) => {
    for (let round = 0; round < 60; round++) {
      const key = randomBytes(16)
      const salt = randomBytes(12)
      const index = randomInt(2 ** 31)
      const encrypt = round % 3 !== 0
      const plain = randomBytes(8 + 4 * randomInt(80))
      plain[0] = 0x81
      plain[1] = 200
      const ssrc = plain.readUInt32BE(4)
      const trailer = Buffer.alloc(4)
      trailer.writeUInt32BE(((encrypt ? 0x80000000 : 0) | index) >>> 0)
      const clear = encrypt ? 8 : plain.length
      const [encrypted, tag] = referenceGcm(
        key,
        iv(salt, ssrc, 0, index, 4),
        Buffer.concat([plain.subarray(0, clear), trailer]),
        plain.subarray(clear)
      )
      const expected = Buffer.concat([plain.subarray(0, clear), encrypted, tag, trailer])
      const ours = gcmSrtcpWithSessionKeys(key, salt, index).protect(plain, plain.length, encrypt)
      assert.equal(ours.toString('hex'), expected.toString('hex'), `round ${round}`)
      assert.equal(gcmSrtcpWithSessionKeys(key, salt).unprotect(expected), plain.length)
      assert.isTrue(expected.subarray(0, plain.length).equals(plain))
    }
  })

  test('a changed tag, header (AAD) or ciphertext bit is refused and the packet left as it came', ({
    assert,
  }) => {
    const key = randomBytes(16)
    const salt = randomBytes(12)
    const plain = randomRtp(7, 0x11223344, 160, 2, 1)
    const offset = rtpPayloadOffset(plain, plain.length)
    const good = gcmSrtpWithSessionKeys(key, salt).protect(plain, plain.length, offset)
    // A bit in the header, the extension, the ciphertext's first and last byte, the tag
    for (const at of [
      1,
      9,
      offset - 1,
      offset,
      good.length - 17,
      good.length - 16,
      good.length - 1,
    ]) {
      const bad = Buffer.from(good)
      bad[at] ^= 0x04
      const before = Buffer.from(bad)
      assert.equal(
        gcmSrtpWithSessionKeys(key, salt).unprotect(bad, bad.length, offset),
        -1,
        `byte ${at}`
      )
      assert.isTrue(bad.equals(before), `byte ${at}: not decrypted`)
    }
    const cut = good.subarray(0, good.length - 1)
    assert.equal(gcmSrtpWithSessionKeys(key, salt).unprotect(cut, cut.length, offset), -1)

    const rtcp = Buffer.concat([hex('81c8000b cafebabe'), randomBytes(40)])
    for (const encrypt of [true, false]) {
      const sealed = gcmSrtcpWithSessionKeys(key, salt).protect(rtcp, rtcp.length, encrypt)
      for (const at of [2, 8, rtcp.length - 1, rtcp.length, sealed.length - 5, sealed.length - 1]) {
        const bad = Buffer.from(sealed)
        bad[at] ^= 0x10
        assert.equal(gcmSrtcpWithSessionKeys(key, salt).unprotect(bad), -1, `${encrypt} ${at}`)
      }
      assert.equal(gcmSrtcpWithSessionKeys(key, salt).unprotect(sealed), rtcp.length)
    }
  })
})
