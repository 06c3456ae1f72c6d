import { test } from '@japa/runner'
import {
  decryptFrame,
  deriveKeyAndSalt,
  encodeHeader,
  encryptFrame,
  parseHeader,
  sframeKey,
  SFrameHeaderError,
  type Bytes,
} from '../../../../resources/js/phone/e2ee/sframe.js'

const hex = (data: Uint8Array) => Buffer.from(data).toString('hex')
const fromHex = (text: string): Bytes => new Uint8Array(Buffer.from(text, 'hex'))

/** RFC 9605 appendix C.1: header encodings (a selection covering each form and length). */
const HEADERS: Array<[bigint, bigint, string]> = [
  [0n, 0n, '00'],
  [0n, 7n, '07'],
  [7n, 0n, '70'],
  [0n, 0xffn, '08ff'],
  [0x123n, 0x4567n, '9901234567'],
  [0x10000n, 0x100000000n, 'ac0100000100000000'],
  [0xffffffn, 0n, 'a0ffffff'],
  [0xffffffn, 0xffn, 'a8ffffffff'],
  [0x1000000n, 1n, 'b101000000'],
  [0x100000000n, 0xffffn, 'c90100000000ffff'],
  [0x0100000000000000n, 0xffn, 'f80100000000000000ff'],
  [0x0100000000000000n, 0x0100000000000000n, 'ff01000000000000000100000000000000'],
  [0xffffffffffffffffn, 1n, 'f1ffffffffffffffff'],
]

/** RFC 9605 appendix C.3, cipher suite 0x0004 (AES_128_GCM_SHA256_128). */
const VECTOR = {
  kid: 0x123n,
  ctr: 0x4567n,
  baseKey: '000102030405060708090a0b0c0d0e0f',
  sframeKey: 'd34f547f4ca4f9a7447006fe7fcbf768',
  sframeSalt: '75234edefe07819026751816',
  metadata: '4945544620534672616d65205747',
  pt: '64726166742d696574662d736672616d652d656e63',
  ct: '9901234567b7412c2513a1b66dbb48841bbaf17f598751176ad847681a69c6d0' + 'b091c07018ce4adb34eb',
}

test.group('E2EE: SFrame (RFC 9605) with WebCrypto', () => {
  test('headers encode and parse as in the RFC’s test vectors', ({ assert }) => {
    for (const [kid, ctr, expected] of HEADERS) {
      const header = encodeHeader(kid, ctr)
      assert.equal(hex(header), expected, `kid ${kid} ctr ${ctr}`)
      const parsed = parseHeader(fromHex(expected + 'abcdef'))
      assert.deepEqual(parsed, { kid, ctr, length: expected.length / 2 })
    }
  })

  test('a header cut short is refused with a typed error', ({ assert }) => {
    assert.throws(() => parseHeader(new Uint8Array(0)), SFrameHeaderError)
    assert.throws(() => parseHeader(fromHex('9901')), SFrameHeaderError)
    assert.throws(() => encodeHeader(-1n, 0n), RangeError)
  })

  test('key, salt and ciphertext match the RFC’s vector for AES_128_GCM_SHA256_128', async ({
    assert,
  }) => {
    const derived = await deriveKeyAndSalt(fromHex(VECTOR.baseKey), VECTOR.kid)
    assert.equal(hex(derived.key), VECTOR.sframeKey)
    assert.equal(hex(derived.salt), VECTOR.sframeSalt)

    const key = await sframeKey(fromHex(VECTOR.baseKey), VECTOR.kid)
    const ct = await encryptFrame(key, VECTOR.ctr, fromHex(VECTOR.pt), fromHex(VECTOR.metadata))
    assert.equal(hex(ct), VECTOR.ct)
    const pt = await decryptFrame(key, parseHeader(ct), ct, fromHex(VECTOR.metadata))
    assert.equal(hex(pt), VECTOR.pt)
  })

  test('a frame with a flipped bit, another header or another key does not decrypt', async ({
    assert,
  }) => {
    const key = await sframeKey(fromHex(VECTOR.baseKey), 0n)
    const frame = await encryptFrame(key, 5n, new Uint8Array(160).fill(0x55))
    // header (1 byte) + plaintext + 16-byte tag
    assert.equal(frame.length, 1 + 160 + 16)
    assert.deepEqual(
      await decryptFrame(key, parseHeader(frame), frame),
      new Uint8Array(160).fill(0x55)
    )

    const flipped = frame.slice()
    flipped[20] ^= 1
    await assert.rejects(() => decryptFrame(key, parseHeader(flipped), flipped))
    const otherCounter = frame.slice()
    otherCounter[0] = 0x06
    await assert.rejects(() => decryptFrame(key, parseHeader(otherCounter), otherCounter))
    const other = await sframeKey(fromHex('ff' + VECTOR.baseKey.slice(2)), 0n)
    await assert.rejects(() => decryptFrame(other, parseHeader(frame), frame))
  })
})
