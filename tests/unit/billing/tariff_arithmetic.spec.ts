import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import {
  answeredCallCost,
  billedSeconds,
  e164Digits,
  longestPrefixMatch,
  microToCents,
  parseIncrement,
  versionValidAt,
} from '#billing/tariff_arithmetic'
import { centsForFile, formatCents, parseCents } from '#billing/amounts'

const rate = (increment: '60/60' | '60/1' | '1/1', pricePerMinute: number, connectionFee = 0) => {
  const { first, next } = parseIncrement(increment)
  return { pricePerMinute, connectionFee, firstInterval: first, nextInterval: next }
}

test.group('Billing increments', () => {
  test('60/60 charges whole minutes, at least one', ({ assert }) => {
    assert.equal(billedSeconds(0, 60, 60), 60)
    assert.equal(billedSeconds(1, 60, 60), 60)
    assert.equal(billedSeconds(60, 60, 60), 60)
    assert.equal(billedSeconds(61, 60, 60), 120)
    assert.equal(billedSeconds(125, 60, 60), 180)
  })

  test('60/1 charges the first minute, then every second', ({ assert }) => {
    assert.equal(billedSeconds(1, 60, 1), 60)
    assert.equal(billedSeconds(60, 60, 1), 60)
    assert.equal(billedSeconds(61, 60, 1), 61)
    assert.equal(billedSeconds(125, 60, 1), 125)
  })

  test('1/1 charges every second', ({ assert }) => {
    assert.equal(billedSeconds(0, 1, 1), 1)
    assert.equal(billedSeconds(1, 1, 1), 1)
    assert.equal(billedSeconds(61, 1, 1), 61)
  })
})

test.group('Cost of an answered call', () => {
  test('0.89 ct/min over 61 s: one minute plus one second at 60/1, two minutes at 60/60', ({
    assert,
  }) => {
    // 8,900 × 61 / 60 = 9,048.33… → rounded up to 9,049 (1/10,000 cent)
    assert.equal(answeredCallCost(61, rate('60/1', 8_900)), 9_049)
    assert.equal(answeredCallCost(61, rate('60/60', 8_900)), 17_800)
    // 8,900 × 61 / 60 again with 1/1
    assert.equal(answeredCallCost(61, rate('1/1', 8_900)), 9_049)
    assert.equal(answeredCallCost(7, rate('1/1', 8_900)), 1_039) // 1,038.33… up
  })

  test('the connection fee is added once, unrounded', ({ assert }) => {
    assert.equal(answeredCallCost(30, rate('60/60', 8_900, 15_000)), 23_900)
    assert.equal(answeredCallCost(0, rate('1/1', 0, 15_000)), 15_000)
  })

  test('an exact product is not rounded up', ({ assert }) => {
    assert.equal(answeredCallCost(120, rate('60/60', 8_900)), 17_800)
    assert.equal(answeredCallCost(30, rate('1/1', 12_000)), 6_000)
  })

  test('long expensive calls stay exact to the 1/10,000 cent', ({ assert }) => {
    // 2,99 EUR/min for 24 h at 1/1: 2,990,000 × 86,400 / 60 = 4,305,600,000 exactly
    assert.equal(answeredCallCost(86_400, rate('1/1', 2_990_000)), 4_305_600_000)
    // 7,777,777 × 86,401 / 60 = 11,200,128,509.61… → 11,200,128,510
    assert.equal(answeredCallCost(86_401, rate('1/1', 7_777_777)), 11_200_128_510)
  })
})

test.group('Rounding rule: whole cents half up', () => {
  test('below half rounds down, half and above round up', ({ assert }) => {
    assert.equal(microToCents(0), 0)
    assert.equal(microToCents(4_999), 0)
    assert.equal(microToCents(5_000), 1)
    assert.equal(microToCents(9_049), 1)
    assert.equal(microToCents(17_800), 2)
    assert.equal(microToCents(14_999), 1)
    assert.equal(microToCents(15_000), 2)
    assert.equal(microToCents(-15_000), -2)
  })
})

test.group('Destinations by longest prefix', () => {
  const entries = [
    { prefix: '' },
    { prefix: '49' },
    { prefix: '4915' },
    { prefix: '49151' },
    { prefix: '43' },
  ]

  test('the longest matching prefix wins; "" is the fallback', ({ assert }) => {
    assert.equal(longestPrefixMatch('4915112345', entries)?.prefix, '49151')
    assert.equal(longestPrefixMatch('4915212345', entries)?.prefix, '4915')
    assert.equal(longestPrefixMatch('4930123456', entries)?.prefix, '49')
    assert.equal(longestPrefixMatch('4312345', entries)?.prefix, '43')
    assert.equal(longestPrefixMatch('1212555', entries)?.prefix, '')
    assert.isNull(longestPrefixMatch('1212555', entries.slice(1)))
  })

  test('numbers are read as E.164 digits', ({ assert }) => {
    assert.equal(e164Digits('+4930123456'), '4930123456')
    assert.equal(e164Digits('+49 30 123-456'), '4930123456')
    assert.equal(e164Digits('004930123456'), '4930123456')
    assert.isNull(e164Digits('030123456'))
    assert.isNull(e164Digits('110'))
    assert.isNull(e164Digits(null))
  })
})

test.group('Versions by date', () => {
  const versions = [
    { id: 1, validFrom: DateTime.fromISO('2026-01-01T00:00:00Z') },
    { id: 3, validFrom: DateTime.fromISO('2026-07-01T00:00:00Z') },
    { id: 2, validFrom: DateTime.fromISO('2026-04-01T00:00:00Z') },
  ]

  test('a call is rated by the latest version valid when it started', ({ assert }) => {
    assert.isNull(versionValidAt(DateTime.fromISO('2025-12-31T23:59:59Z'), versions))
    assert.equal(versionValidAt(DateTime.fromISO('2026-01-01T00:00:00Z'), versions)?.id, 1)
    assert.equal(versionValidAt(DateTime.fromISO('2026-03-31T23:59:59Z'), versions)?.id, 1)
    assert.equal(versionValidAt(DateTime.fromISO('2026-04-01T00:00:00Z'), versions)?.id, 2)
    assert.equal(versionValidAt(DateTime.fromISO('2026-12-01T00:00:00Z'), versions)?.id, 3)
  })
})

test.group('Amounts typed and shown in cents', () => {
  test('staff type cents with a comma or a dot, up to four decimals', ({ assert }) => {
    assert.equal(parseCents('0,89'), 8_900)
    assert.equal(parseCents('0.89'), 8_900)
    assert.equal(parseCents('12'), 120_000)
    assert.equal(parseCents('0,0001'), 1)
    assert.equal(parseCents('1,2345'), 12_345)
    assert.isNull(parseCents('1,23456'))
    assert.isNull(parseCents('-1'))
    assert.isNull(parseCents('1e3'))
    assert.isNull(parseCents(''))
  })

  test('amounts are shown with two to four decimals in the page’s language', ({ assert }) => {
    assert.equal(formatCents(8_900, 'de'), '0,89')
    assert.equal(formatCents(8_900, 'en'), '0.89')
    assert.equal(formatCents(0, 'de'), '0,00')
    assert.equal(formatCents(12_345, 'de'), '1,2345')
    assert.equal(formatCents(12_340, 'de'), '1,234')
    assert.equal(formatCents(10_000, 'de'), '1,00')
    assert.equal(formatCents(123_456_000_0, 'de'), '123.456,00')
    assert.equal(formatCents(123_456_000_0, 'en'), '123,456.00')
    assert.equal(centsForFile(123_456_789_0), '123456.789')
  })
})
