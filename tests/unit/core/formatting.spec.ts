import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import { countryName, formatCount, formatDate, phoneNumber } from '#core/formatting'

test.group('Formatting for people', () => {
  test('phone numbers in international format; hidden digits stay hidden; short codes stay', ({
    assert,
  }) => {
    assert.equal(phoneNumber('+4930123456789'), '+49 30 123456789')
    assert.equal(phoneNumber('+4915112345678'), '+49 1511 2345678')
    assert.equal(phoneNumber('+12025550123'), '+1 202 555 0123')
    assert.equal(phoneNumber('+493012345xxx'), '+49 30 12345xxx')
    assert.equal(phoneNumber('110'), '110')
    assert.equal(phoneNumber('*43'), '*43')
    assert.equal(phoneNumber(null), '')
  })

  test('country names, counts and dates in the page language', ({ assert }) => {
    assert.equal(countryName('DE', 'de'), 'Deutschland')
    assert.equal(countryName('DE', 'en'), 'Germany')
    assert.equal(countryName('Frankfurt (DE)', 'en'), 'Frankfurt (DE)')
    assert.equal(formatCount(1234567, 'de'), '1.234.567')
    assert.equal(formatCount(1234567, 'en'), '1,234,567')
    assert.equal(formatDate(DateTime.utc(2026, 12, 1), 'de'), '01.12.2026')
    assert.equal(formatDate(DateTime.utc(2026, 12, 1), 'en'), 'Dec 1, 2026')
  })
})
