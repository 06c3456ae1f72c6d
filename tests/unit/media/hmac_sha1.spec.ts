import { test } from '@japa/runner'
import { createHmac, randomBytes } from 'node:crypto'
import HmacSha1 from '#media/hmac_sha1'

test.group('HMAC-SHA1 for SRTP', () => {
  test('RFC 2202 test case 1 and 2 (the last 4 bytes passed as the suffix)', ({ assert }) => {
    const out = Buffer.alloc(20)
    // "Hi There": "Hi T" and "here" as a big-endian 32-bit suffix
    new HmacSha1(Buffer.alloc(20, 0x0b)).sign(Buffer.from('Hi T'), 4, 0x68657265, out, 0, 20)
    assert.equal(out.toString('hex'), 'b617318655057264e28bc0b6fb378c8ef146be00')
    // "what do ya want for nothing?" with the key "Jefe"
    const data = Buffer.from('what do ya want for nothing?')
    new HmacSha1(Buffer.from('Jefe')).sign(data, data.length - 4, data.readUInt32BE(24), out, 0, 20)
    assert.equal(out.toString('hex'), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79')
  })

  test('equals node:crypto for every message length from 0 to 300 bytes, truncated and at an offset', ({
    assert,
  }) => {
    for (let length = 0; length <= 300; length++) {
      const key = randomBytes(20)
      const data = randomBytes(length + 7)
      const suffix = (Math.random() * 0x1_0000_0000) >>> 0
      const suffixBytes = Buffer.alloc(4)
      suffixBytes.writeUInt32BE(suffix)
      const expected = createHmac('sha1', key)
        .update(data.subarray(0, length))
        .update(suffixBytes)
        .digest()
      const hmac = new HmacSha1(key)
      const out = Buffer.alloc(30, 0xee)
      hmac.sign(data, length, suffix, out, 5, 20)
      assert.equal(
        out.subarray(5, 25).toString('hex'),
        expected.toString('hex'),
        `length ${length}`
      )
      // Reused: no state left from the last message
      hmac.sign(data, length, suffix, out, 0, 10)
      assert.equal(out.subarray(0, 10).toString('hex'), expected.subarray(0, 10).toString('hex'))
      assert.equal(out[25], 0xee)
    }
  })

  test('signPlain (STUN MESSAGE-INTEGRITY) equals node:crypto, keys longer than a block included', ({
    assert,
  }) => {
    for (const keyLength of [1, 22, 64, 65, 256]) {
      const key = randomBytes(keyLength)
      const hmac = new HmacSha1(key)
      for (let length = 0; length <= 200; length++) {
        const data = randomBytes(length)
        const out = Buffer.alloc(24, 0xee)
        hmac.signPlain(data, length, out, 2)
        const expected = createHmac('sha1', key).update(data).digest('hex')
        assert.equal(out.subarray(2, 22).toString('hex'), expected, `key ${keyLength}, ${length}`)
        assert.equal(out[22], 0xee)
      }
    }
  })
})
