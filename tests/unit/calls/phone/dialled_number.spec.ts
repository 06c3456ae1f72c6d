import { test } from '@japa/runner'
// Browser code (bundled by Vite) has no subpath import; it is plain TypeScript without DOM use here.
import { displayNumber, normaliseDialled } from '../../../../resources/js/phone/dialled_number.js'

test.group('Web phone: dialled numbers', () => {
  test('national and international forms become E.164 in the company’s country', ({ assert }) => {
    const cases: Array<[string, string, string]> = [
      ['030 12345678', 'DE', '+493012345678'],
      ['(030) 123-456-78', 'DE', '+493012345678'],
      ['0049 30 12345678', 'DE', '+493012345678'],
      ['+49 30 12345678', 'AT', '+493012345678'],
      ['0151 12345678', 'DE', '+4915112345678'],
      ['01 5123456', 'AT', '+4315123456'],
    ]
    for (const [typed, country, expected] of cases) {
      assert.deepEqual(
        normaliseDialled(typed, country),
        { ok: true, number: expected, kind: 'e164' },
        typed
      )
    }
  })

  test('110, 112 and the echo-test code are kept as typed', ({ assert }) => {
    assert.deepEqual(normaliseDialled('110', 'DE'), { ok: true, number: '110', kind: 'emergency' })
    assert.deepEqual(normaliseDialled(' 112 ', 'AT'), {
      ok: true,
      number: '112',
      kind: 'emergency',
    })
    assert.deepEqual(normaliseDialled('*43', 'DE', ['*43']), {
      ok: true,
      number: '*43',
      kind: 'service',
    })
    assert.deepEqual(
      normaliseDialled('*43', 'DE'),
      { ok: false, reason: 'invalid' },
      'only announced service codes'
    )
  })

  test('2-4 digits are a colleague’s extension, sent as typed', ({ assert }) => {
    for (const typed of ['23', '1 00', '9999'])
      assert.deepEqual(
        normaliseDialled(typed, 'DE'),
        { ok: true, number: typed.replace(' ', ''), kind: 'extension' },
        typed
      )
    assert.deepEqual(
      normaliseDialled('110', 'DE'),
      { ok: true, number: '110', kind: 'emergency' },
      'emergency first'
    )
    assert.deepEqual(normaliseDialled('030', 'DE'), { ok: false, reason: 'invalid' }, 'a leading 0')
  })

  test('empty, letters, impossible numbers and an unknown country are refused', ({ assert }) => {
    assert.deepEqual(normaliseDialled('  ', 'DE'), { ok: false, reason: 'empty' })
    for (const typed of ['hello', '1', '+49 30', '030-1234567890123456789', '0900#1']) {
      assert.deepEqual(normaliseDialled(typed, 'DE'), { ok: false, reason: 'invalid' }, typed)
    }
    assert.deepEqual(
      normaliseDialled('030 12345678', 'xx'),
      { ok: false, reason: 'invalid' },
      'no country to read a national number in'
    )
    assert.deepEqual(normaliseDialled('+49 30 12345678', 'xx'), {
      ok: true,
      number: '+493012345678',
      kind: 'e164',
    })
  })

  test('numbers shown grouped as on the server’s pages; extensions and codes unchanged', ({
    assert,
  }) => {
    assert.equal(displayNumber('+4930901820'), '+49 30 901820')
    assert.equal(displayNumber('+4915112345678'), '+49 1511 2345678')
    assert.equal(displayNumber('+431512345'), '+43 1 512345')
    for (const unchanged of ['24', '*43', '110', 'anonymous', '+', '+12'])
      assert.equal(displayNumber(unchanged), unchanged)
  })
})
