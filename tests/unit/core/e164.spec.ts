import { test } from '@japa/runner'
import { e164Digits, toE164 } from '#core/e164'
import { toE164Digits } from '#calls/routing/dialled_number'
import { normaliseE164 } from '#calls/services/number_block'
import { e164Digits as ratingDigits } from '#billing/tariff_arithmetic'

test.group('E.164: one reading of numbers', () => {
  test('international prefixes, separators, national numbers with a country, bare digits only when asked', ({
    assert,
  }) => {
    assert.equal(e164Digits('+49 (30) 123-4567'), '49301234567')
    assert.equal(e164Digits('0049 30 1234567'), '49301234567')
    assert.isNull(e164Digits('030 1234567'), 'national without a country')
    assert.equal(e164Digits('030 1234567', { country: 'de' }), '49301234567')
    assert.isNull(
      e164Digits('030 1234567', { country: 'US' }),
      'a country we have no calling code for'
    )
    assert.isNull(e164Digits('49301234567'))
    assert.equal(toE164('49301234567', { bareIsInternational: true }), '+49301234567')
    assert.isNull(e164Digits(null))
  })

  test('7 to 15 digits, the first one 1-9', ({ assert }) => {
    assert.equal(e164Digits('+2901234'), '2901234', 'Saint Helena: 7 digits')
    assert.isNull(e164Digits('+290123'), '6 digits')
    assert.equal(e164Digits('+123456789012345'), '123456789012345')
    assert.isNull(e164Digits('+1234567890123456'), '16 digits')
    assert.isNull(e164Digits('+0301234567'))
    assert.isNull(e164Digits('+49abc1234'))
    assert.isNull(e164Digits('110'))
  })

  test('routing, number forms and rating agree, minimum length included', ({ assert }) => {
    for (const text of ['+49 30 1234567', '+2901234', '+290123', '+4930123456789012']) {
      const expected = e164Digits(text)
      assert.equal(toE164Digits(text, 'DE'), expected, `routing: ${text}`)
      assert.equal(normaliseE164(text), expected && `+${expected}`, `numbers: ${text}`)
      assert.equal(ratingDigits(text), expected, `rating: ${text}`)
    }
  })
})
