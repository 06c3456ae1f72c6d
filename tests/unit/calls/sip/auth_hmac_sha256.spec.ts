import { createHmac, randomBytes } from 'node:crypto'
import { test } from '@japa/runner'
import HmacSha256 from '#sip/auth/hmac_sha256'
import { randomBase64url } from '#sip/message/random_token'

test.group('HmacSha256 (the digest nonces)', () => {
  test('RFC 4231 test cases 1, 2 and 6 (a key longer than the block)', ({ assert }) => {
    const cases: Array<[Buffer, Buffer, string]> = [
      [
        Buffer.alloc(20, 0x0b),
        Buffer.from('Hi There'),
        'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
      ],
      [
        Buffer.from('Jefe'),
        Buffer.from('what do ya want for nothing?'),
        '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      ],
      [
        Buffer.alloc(131, 0xaa),
        Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'),
        '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
      ],
    ]
    for (const [key, message, digest] of cases) {
      assert.equal(new HmacSha256(key).digest(message).toString('hex'), digest)
    }
  })

  test('the same bytes as node:crypto for keys and messages of every length around the block', ({
    assert,
  }) => {
    for (const keyLength of [0, 1, 31, 32, 63, 64, 65, 200]) {
      const key = randomBytes(keyLength)
      const hmac = new HmacSha256(key)
      for (const messageLength of [0, 1, 55, 56, 64, 119, 120, 300]) {
        const message = randomBytes(messageLength).toString('base64url')
        assert.equal(
          hmac.digest(message).toString('hex'),
          createHmac('sha256', key).update(message).digest('hex'),
          `key ${keyLength} bytes, message ${message.length} characters`
        )
      }
    }
  })

  test('randomBase64url: the asked number of bytes, never the same twice across refills', ({
    assert,
  }) => {
    const drawn = Array.from({ length: 1_500 }, (_, i) => randomBase64url(i % 2 ? 9 : 8))
    for (const [i, value] of drawn.entries()) {
      assert.equal(Buffer.from(value, 'base64url').length, i % 2 ? 9 : 8)
    }
    assert.equal(new Set(drawn).size, drawn.length)
  })
})
