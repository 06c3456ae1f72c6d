import { DateTime } from 'luxon'

/**
 * Monthly fees per user seat and per number, pro rata by calendar day in Europe/Berlin. Amounts
 * are integers in 1/10,000 cent like every price.
 *
 * Rule: an item (a seat, a number) costs its monthly fee × charged days / days of the month, the
 * quotient rounded half up to a whole 1/10,000 cent. A day is charged when the item existed at any
 * moment of it: the day it started and the day it ended both count. A whole month costs exactly
 * the fee. The fee is the one valid on the first day of the month (a new price applies from the
 * next whole month).
 */
export const FEE_TIME_ZONE = 'Europe/Berlin'

export interface BillingMonth {
  year: number
  /** 1-12 */
  month: number
}

export function monthBounds({ year, month }: BillingMonth, zone = FEE_TIME_ZONE) {
  const start = DateTime.fromObject({ year, month, day: 1 }, { zone })
  return { start, end: start.plus({ months: 1 }), days: start.daysInMonth! }
}

/** Days of the month on which an item active from `from` until `until` (null: still active) existed. */
export function chargedDays(
  month: BillingMonth,
  from: DateTime,
  until: DateTime | null,
  zone = FEE_TIME_ZONE
): number {
  const { start, end, days } = monthBounds(month, zone)
  if (until && until < from) return 0
  if (from >= end || (until && until < start)) return 0
  const firstDay = from <= start ? 1 : from.setZone(zone).day
  const lastDay = !until || until >= end ? days : until.setZone(zone).day
  return Math.max(0, lastDay - firstDay + 1)
}

/** fee × charged days / days of the month, half up to 1/10,000 cent; exact integer arithmetic. */
export function proRataFee(
  feePerMonth: number,
  month: BillingMonth,
  from: DateTime,
  until: DateTime | null,
  zone = FEE_TIME_ZONE
): number {
  const { days } = monthBounds(month, zone)
  const charged = chargedDays(month, from, until, zone)
  if (charged === 0) return 0
  if (charged === days) return feePerMonth
  const numerator = BigInt(feePerMonth) * BigInt(charged) * 2n + BigInt(days)
  return Number(numerator / (BigInt(days) * 2n))
}

export interface FeeItem {
  kind: 'seat' | 'number'
  from: DateTime
  until: DateTime | null
}

/** The month's fees for a company's items: one line per kind, each a sum of exact pro-rata amounts. */
export function monthlyFees(
  month: BillingMonth,
  fees: { seat: number; number: number },
  items: FeeItem[]
) {
  const totals = { seat: { count: 0, amount: 0 }, number: { count: 0, amount: 0 } }
  for (const item of items) {
    const amount = proRataFee(
      item.kind === 'seat' ? fees.seat : fees.number,
      month,
      item.from,
      item.until
    )
    if (amount === 0 && chargedDays(month, item.from, item.until) === 0) continue
    totals[item.kind].count += 1
    totals[item.kind].amount += amount
  }
  return totals
}
