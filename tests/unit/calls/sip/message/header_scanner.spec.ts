import { test } from '@japa/runner'
import HeaderScanner, { CharClass } from '#sip/message/header_scanner'
import { ParseFailure } from '#sip/message/parse_failure'

/** The single-character patterns the header grammars scan with (via, name-addr, auth, params). */
const PATTERNS = [
  /[A-Za-z0-9\-.!%*_+`'~]/,
  /[A-Za-z0-9\-.!%*_+`'~:\[\]]/,
  /[A-Za-z0-9\-.!%*_+`'~/=:]/,
  /[0-9A-Fa-f:.]/,
  /[A-Za-z0-9\-_.]/,
  /[0-9]/,
  /[^;\s]/,
]

test.group('HeaderScanner / character classes', () => {
  test('a class answers as its pattern for every UTF-16 code unit', ({ assert }) => {
    for (const pattern of PATTERNS) {
      const chars = new CharClass(pattern)
      const differing: number[] = []
      for (let code = 0; code <= 0xffff; code++) {
        if (chars.includes(code) !== pattern.test(String.fromCharCode(code))) differing.push(code)
      }
      assert.deepEqual(differing, [], String(pattern))
    }
  })

  test('readWhile stops where the pattern stops, non-ASCII white space included', ({ assert }) => {
    const addrSpec = new CharClass(/[^;\s]/)
    for (const [text, read] of [
      ['sip:a@b;tag=1', 'sip:a@b'],
      ['sip:a@b\u00a0x', 'sip:a@b'],
      ['sip:a@b\u2028x', 'sip:a@b'],
      ['sip:a@b\ufeffx', 'sip:a@b'],
      ['sip:ä@b x', 'sip:ä@b'],
      ['', ''],
    ]) {
      const scanner = new HeaderScanner(text, ParseFailure.BadNameAddress, 'test')
      assert.equal(scanner.readWhile(addrSpec), read, JSON.stringify(text))
      assert.equal(scanner.position, read.length)
    }
    const token = new HeaderScanner('abc=def', ParseFailure.BadVia, 'test')
    assert.equal(token.readToken('token'), 'abc')
    assert.equal(token.position, 3)
    assert.throws(() => token.readToken('token'), /test: token/)
  })
})
