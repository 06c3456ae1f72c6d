import { test } from '@japa/runner'
import { randomToken } from '#sip/message/random_token'

test.group('randomToken', () => {
  test('80 bits as 14 URL-safe characters, none twice across several refills of the pool', ({
    assert,
  }) => {
    const tokens = Array.from({ length: 2_000 }, () => randomToken())
    for (const token of tokens) assert.match(token, /^[A-Za-z0-9_-]{14}$/)
    assert.equal(new Set(tokens).size, tokens.length)
    // not a wiped (all-zero) slice of the pool
    assert.notInclude(tokens, Buffer.alloc(10).toString('base64url'))
  })
})
