import { DateTime } from 'luxon'
import type { CallFact } from '#fraud/detection/types'

/** Hours of a week: Monday 00:00-00:59 is 0, Sunday 23:00-23:59 is 167. */
export const HOURS_OF_WEEK = 168

/**
 * The hour of the week in a time zone. Local wall-clock time through luxon, so a call at 02:30
 * on the night clocks change counts to the hour it showed there (DST-safe).
 */
export function hourOfWeek(at: number, timeZone: string) {
  const local = DateTime.fromMillis(at, { zone: timeZone })
  return (local.weekday - 1) * 24 + local.hour
}

/** "Sunday 03:00" style label of an hour of the week (English; facts are data, pages translate). */
export function hourOfWeekLabel(hour: number) {
  const day = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'][
    Math.floor(hour / 24)
  ]
  return `${day} ${String(hour % 24).padStart(2, '0')}:00`
}

/** A cell of the baseline: calls and answered minutes. */
export interface BaselineCell {
  calls: number
  minutes: number
}

/**
 * A company's usual traffic over whole weeks before today (in its time zone): outbound calls and
 * minutes per destination country by hour of the week, and inbound calls per origin country.
 */
export interface Baseline {
  timeZone: string
  weeks: number
  from: number
  to: number
  /** "DE|37" → calls and minutes to Germany on Tuesday 13:00-13:59, summed over the weeks. */
  cells: Map<string, BaselineCell>
  outboundByCountry: Map<string, number>
  outboundByHour: number[]
  inboundByCountry: Map<string, number>
}

/** The key of a non-geographic destination (+881, +882...): no country, still a destination. */
export const NO_COUNTRY = 'none'

/** Where the baseline window of `now` lies: the `weeks` whole weeks before today's local midnight. */
export function baselineWindow(now: number, timeZone: string, weeks: number) {
  const today = DateTime.fromMillis(now, { zone: timeZone }).startOf('day')
  return { from: today.minus({ weeks }).toMillis(), to: today.toMillis() }
}

/**
 * Builds the baseline from the CDRs in its window. Emergency calls, echo tests and calls of
 * `excludedUsers` (under an Art. 18 GDPR restriction) do not count.
 */
export function buildBaseline(
  calls: Iterable<CallFact>,
  options: { now: number; timeZone: string; weeks: number; excludedUsers: ReadonlySet<number> }
): Baseline {
  const { from, to } = baselineWindow(options.now, options.timeZone, options.weeks)
  const baseline: Baseline = {
    timeZone: options.timeZone,
    weeks: options.weeks,
    from,
    to,
    cells: new Map(),
    outboundByCountry: new Map(),
    outboundByHour: new Array(HOURS_OF_WEEK).fill(0),
    inboundByCountry: new Map(),
  }
  for (const call of calls) {
    if (call.startedAt < from || call.startedAt >= to || call.emergency) continue
    if (call.userId !== null && options.excludedUsers.has(call.userId)) continue
    const country = call.country ?? NO_COUNTRY
    if (call.direction === 'inbound') {
      baseline.inboundByCountry.set(country, (baseline.inboundByCountry.get(country) ?? 0) + 1)
      continue
    }
    if (call.direction !== 'outbound') continue
    const hour = hourOfWeek(call.startedAt, options.timeZone)
    const key = `${country}|${hour}`
    const cell = baseline.cells.get(key) ?? { calls: 0, minutes: 0 }
    cell.calls += 1
    cell.minutes += call.answered ? call.durationSeconds / 60 : 0
    baseline.cells.set(key, cell)
    baseline.outboundByCountry.set(country, (baseline.outboundByCountry.get(country) ?? 0) + 1)
    baseline.outboundByHour[hour] += 1
  }
  return baseline
}
