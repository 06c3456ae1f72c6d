import { DateTime } from 'luxon'

/**
 * When a direct debit may be collected. The pre-notification (our invoice) must reach the debtor
 * this many days before the debit: 14 calendar days by the SEPA rulebooks (SDD Core and B2B,
 * AT-25) unless the contract agrees a shorter period. The collection date is a TARGET2 business
 * day, and the file reaches the bank at least one business day before it (D-1).
 */

/** Easter Sunday (Gauss/Meeus algorithm for the Gregorian calendar). */
function easterSunday(year: number) {
  const a = year % 19
  const b = Math.floor(year / 100)
  const c = year % 100
  const d = Math.floor(b / 4)
  const e = b % 4
  const f = Math.floor((b + 8) / 25)
  const g = Math.floor((b - f + 1) / 3)
  const h = (19 * a + b - d - g + 15) % 30
  const i = Math.floor(c / 4)
  const k = c % 4
  const l = (32 + 2 * e + 2 * i - h - k) % 7
  const m = Math.floor((a + 11 * h + 22 * l) / 451)
  const month = Math.floor((h + l - 7 * m + 114) / 31)
  const day = ((h + l - 7 * m + 114) % 31) + 1
  return DateTime.utc(year, month, day)
}

/** TARGET2 closing days: weekends, 1 January, Good Friday, Easter Monday, 1 May, 25 and 26 December. */
export function isTargetBusinessDay(date: DateTime) {
  if (date.weekday >= 6) return false
  const md = date.toFormat('MM-dd')
  if (['01-01', '05-01', '12-25', '12-26'].includes(md)) return false
  const easter = easterSunday(date.year)
  const iso = date.toISODate()
  return (
    iso !== easter.minus({ days: 2 }).toISODate() && iso !== easter.plus({ days: 1 }).toISODate()
  )
}

export function nextBusinessDay(date: DateTime) {
  let day = date.startOf('day')
  while (!isTargetBusinessDay(day)) day = day.plus({ days: 1 })
  return day
}

/**
 * The earliest collection date of a payable: not before its due date, not before the end of the
 * pre-notification period counted from the invoice date, and at least one business day after the
 * file is made (`today`); moved to the next TARGET2 business day.
 */
export function collectionDate(
  payable: { issuedOn: DateTime; dueOn: DateTime },
  options: { preNotificationDays: number; today: DateTime }
) {
  const date = (value: DateTime) => DateTime.utc(value.year, value.month, value.day)
  const candidates = [
    date(payable.dueOn),
    date(payable.issuedOn).plus({ days: options.preNotificationDays }),
    nextBusinessDay(date(options.today).plus({ days: 1 })),
  ]
  const latest = candidates.reduce((a, b) => (b > a ? b : a))
  return nextBusinessDay(latest)
}
