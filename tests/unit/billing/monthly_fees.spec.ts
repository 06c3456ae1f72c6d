import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import { chargedDays, monthlyFees, proRataFee } from '#billing/monthly_fees'

const berlin = (iso: string) => DateTime.fromISO(iso, { zone: 'Europe/Berlin' })
const FEBRUARY = { year: 2026, month: 2 } // 28 days
const MARCH = { year: 2026, month: 3 } // 31 days, summer time starts on the 29th

test.group('Monthly fees pro rata', () => {
  test('a whole month costs exactly the fee; items outside the month cost nothing', ({
    assert,
  }) => {
    assert.equal(proRataFee(4_990_000, MARCH, berlin('2026-01-15T10:00'), null), 4_990_000)
    assert.equal(
      proRataFee(4_990_000, MARCH, berlin('2026-03-01T00:00'), berlin('2026-03-31T23:59')),
      4_990_000
    )
    assert.equal(proRataFee(4_990_000, MARCH, berlin('2026-04-01T00:00'), null), 0)
    assert.equal(
      proRataFee(4_990_000, MARCH, berlin('2026-01-01T00:00'), berlin('2026-02-28T23:59')),
      0
    )
  })

  test('the first and the last day both count, in Berlin time', ({ assert }) => {
    assert.equal(chargedDays(MARCH, berlin('2026-03-16T18:00'), null), 16)
    assert.equal(chargedDays(MARCH, berlin('2026-03-01T00:00'), berlin('2026-03-01T00:01')), 1)
    assert.equal(chargedDays(FEBRUARY, berlin('2026-02-10T09:00'), berlin('2026-02-20T17:00')), 11)
    // 23:30 UTC on 31 March is 1 April in Berlin: not a March day
    assert.equal(chargedDays(MARCH, DateTime.fromISO('2026-03-31T22:30:00Z'), null), 0)
    // 23:30 UTC on 28 February is 1 March in Berlin: the first of March
    assert.equal(chargedDays(MARCH, DateTime.fromISO('2026-02-28T23:30:00Z'), null), 31)
  })

  test('fee × days / days of the month, half up to 1/10,000 cent', ({ assert }) => {
    // 4.99 EUR = 4,990,000; 16 of 31 days: 2,575,483.87… → 2,575,484
    assert.equal(proRataFee(4_990_000, MARCH, berlin('2026-03-16T18:00'), null), 2_575_484)
    // 1.00 EUR, 1 of 28 days: 35,714.28… → 35,714
    assert.equal(proRataFee(1_000_000, FEBRUARY, berlin('2026-02-28T12:00'), null), 35_714)
    // 7 of 28 days of 1.00 EUR: exactly a quarter
    assert.equal(proRataFee(1_000_000, FEBRUARY, berlin('2026-02-22T12:00'), null), 250_000)
    // 31 units, 1 of 31 days: exactly 1; a half-way case rounds up
    assert.equal(proRataFee(31, MARCH, berlin('2026-03-31T12:00'), null), 1)
    assert.equal(proRataFee(3, { year: 2026, month: 4 }, berlin('2026-04-16T00:00'), null), 2) // 3 × 15 / 30 = 1.5 → 2
  })

  test('a company’s month: seats and numbers summed per kind', ({ assert }) => {
    const totals = monthlyFees(MARCH, { seat: 4_990_000, number: 1_000_000 }, [
      { kind: 'seat', from: berlin('2025-12-01T09:00'), until: null },
      { kind: 'seat', from: berlin('2026-03-16T18:00'), until: null },
      { kind: 'seat', from: berlin('2026-04-02T09:00'), until: null },
      { kind: 'number', from: berlin('2026-01-01T09:00'), until: berlin('2026-03-10T09:00') },
    ])
    assert.deepEqual(totals, {
      seat: { count: 2, amount: 4_990_000 + 2_575_484 },
      number: { count: 1, amount: 322_581 }, // 10 of 31 days: 322,580.6… → 322,581
    })
  })
})
