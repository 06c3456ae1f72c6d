import { DateTime } from 'luxon'
import type { DetectionConfig, SignalLevels } from '#config/fraud'
import { type Baseline, hourOfWeek, hourOfWeekLabel, NO_COUNTRY } from '#fraud/detection/baseline'
import type { CallFact, SignalHit, SignalLevel } from '#fraud/detection/types'

const MINUTE = 60_000

/** The level a figure reaches, or null below the warning threshold. */
export function levelOf(value: number, levels: SignalLevels): SignalLevel | null {
  if (value >= levels.critical) return 'critical'
  if (value >= levels.warning) return 'warning'
  return null
}

/** What every signal needs: the company's recent calls, its baseline, home country and clock. */
export interface SignalContext {
  config: DetectionConfig
  homeCountry: string
  baseline: Baseline
  /** The company's calls of the last day or so (newest window), emergency calls already left out. */
  recent: CallFact[]
  now: number
}

function within(calls: CallFact[], now: number, minutes: number) {
  const since = now - minutes * MINUTE
  return calls.filter((call) => call.startedAt > since && call.startedAt <= now)
}

function outbound(calls: CallFact[]) {
  return calls.filter((call) => call.direction === 'outbound' && !call.emergency)
}

/** The single user behind a set of calls, or null when several (or none) placed them. */
function soleUser(calls: CallFact[]) {
  const users = new Set(calls.map((call) => call.userId))
  return users.size === 1 ? [...users][0] : null
}

/** Bursts of calls (refused attempts included) to a country the baseline hardly knows. */
export function rareCountryBurst({
  config,
  homeCountry,
  baseline,
  recent,
  now,
}: SignalContext): SignalHit[] {
  const byCountry = new Map<string, CallFact[]>()
  for (const call of outbound(within(recent, now, config.burstMinutes))) {
    const country = call.country ?? NO_COUNTRY
    if (country === homeCountry) continue
    const calls = byCountry.get(country)
    if (calls) calls.push(call)
    else byCountry.set(country, [call])
  }
  const hits: SignalHit[] = []
  for (const [country, calls] of byCountry) {
    const baselineCalls = baseline.outboundByCountry.get(country) ?? 0
    if (baselineCalls >= config.rareCountryCalls) continue
    const level = levelOf(calls.length, config.rareCountryBurst)
    if (!level) continue
    hits.push({
      signal: 'rare_country_burst',
      level,
      subject: country,
      userId: soleUser(calls),
      facts: {
        country,
        calls: calls.length,
        refused: calls.filter((call) => call.refused).length,
        withinMinutes: config.burstMinutes,
        baselineCalls,
        baselineWeeks: baseline.weeks,
        threshold: config.rareCountryBurst[level],
      },
    })
  }
  return hits
}

/** Is this hour (local) at night or on a weekend? */
export function offHours(at: number, timeZone: string, night: DetectionConfig['night']) {
  const local = DateTime.fromMillis(at, { zone: timeZone })
  if (local.weekday >= 6) return true
  return night.from > night.to
    ? local.hour >= night.from || local.hour < night.to
    : local.hour >= night.from && local.hour < night.to
}

/** Calls in the last hour at night or on the weekend, far above what this hour of the week usually sees. */
export function offHoursCalls({ config, baseline, recent, now }: SignalContext): SignalHit[] {
  if (!offHours(now, baseline.timeZone, config.night)) return []
  const calls = outbound(within(recent, now, 60))
  const hour = hourOfWeek(now, baseline.timeZone)
  const weeklyMean = baseline.outboundByHour[hour] / baseline.weeks
  if (calls.length <= config.offHoursFactor * weeklyMean) return []
  const level = levelOf(calls.length, config.offHours)
  if (!level) return []
  return [
    {
      signal: 'off_hours',
      level,
      subject: String(hour),
      userId: soleUser(calls),
      facts: {
        calls: calls.length,
        withinMinutes: 60,
        hourOfWeek: hourOfWeekLabel(hour),
        timeZone: baseline.timeZone,
        baselineWeeklyMean: Math.round(weeklyMean * 100) / 100,
        factor: config.offHoursFactor,
        threshold: config.offHours[level],
      },
    },
  ]
}

/** An answered international call that lasted long (the CDR of the call that just ended). */
export function longInternational(
  { config, homeCountry }: SignalContext,
  call: CallFact
): SignalHit[] {
  if (call.direction !== 'outbound' || call.emergency || !call.answered) return []
  if (call.country === homeCountry) return []
  const minutes = Math.floor(call.durationSeconds / 60)
  const level = levelOf(minutes, config.longInternationalMinutes)
  if (!level) return []
  return [
    {
      signal: 'long_international',
      level,
      subject: `call:${call.id}`,
      userId: call.userId,
      facts: {
        number: call.number,
        country: call.country ?? NO_COUNTRY,
        minutes,
        threshold: config.longInternationalMinutes[level],
      },
    },
  ]
}

/** Many answered calls of a few seconds: robo-dialling, or testing stolen credentials on paid numbers. */
export function shortCalls({ config, recent, now }: SignalContext): SignalHit[] {
  const calls = outbound(within(recent, now, config.shortCallMinutes)).filter(
    (call) => call.answered && call.durationSeconds <= config.shortCallSeconds
  )
  const level = levelOf(calls.length, config.shortCalls)
  if (!level) return []
  return [
    {
      signal: 'short_calls',
      level,
      subject: 'all',
      userId: soleUser(calls),
      facts: {
        calls: calls.length,
        maxSeconds: config.shortCallSeconds,
        withinMinutes: config.shortCallMinutes,
        threshold: config.shortCalls[level],
      },
    },
  ]
}

/** The longest run of numbers of one length, each one higher than the one before. */
export function longestSequentialRun(numbers: Iterable<string>) {
  const distinct = [
    ...new Set(
      [...numbers].map((number) => number.replace(/^\+/, '')).filter((d) => /^\d+$/.test(d))
    ),
  ]
  distinct.sort(
    (a, b) => a.length - b.length || (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0)
  )
  let best = { length: 0, from: '', to: '' }
  let start = 0
  for (let index = 0; index < distinct.length; index++) {
    const previous = distinct[index - 1]
    const current = distinct[index]
    const continues =
      index > 0 && previous.length === current.length && BigInt(current) - BigInt(previous) === 1n
    if (!continues) start = index
    const length = index - start + 1
    if (length > best.length) best = { length, from: `+${distinct[start]}`, to: `+${current}` }
  }
  return best
}

/** Dialling through a number range (+4930123400, ...401, ...402): hunting for a live or paid number. */
export function sequentialNumbers({ config, recent, now }: SignalContext): SignalHit[] {
  const calls = outbound(within(recent, now, config.sequentialMinutes)).filter(
    (call) => call.number !== null
  )
  const run = longestSequentialRun(calls.map((call) => call.number!))
  const level = levelOf(run.length, config.sequentialNumbers)
  if (!level) return []
  return [
    {
      signal: 'sequential_numbers',
      level,
      subject: run.from,
      userId: soleUser(calls),
      facts: {
        numbers: run.length,
        from: run.from,
        to: run.to,
        withinMinutes: config.sequentialMinutes,
        threshold: config.sequentialNumbers[level],
      },
    },
  ]
}

/** Many calls to one number (refused attempts included): pumping traffic to a revenue-share number. */
export function oneNumber({ config, recent, now }: SignalContext): SignalHit[] {
  const byNumber = new Map<string, CallFact[]>()
  for (const call of outbound(within(recent, now, config.oneNumberHours * 60))) {
    if (call.number === null) continue
    const calls = byNumber.get(call.number)
    if (calls) calls.push(call)
    else byNumber.set(call.number, [call])
  }
  const hits: SignalHit[] = []
  for (const [number, calls] of byNumber) {
    const level = levelOf(calls.length, config.oneNumber)
    if (!level) continue
    hits.push({
      signal: 'one_number',
      level,
      subject: number,
      userId: soleUser(calls),
      facts: {
        number,
        calls: calls.length,
        withinHours: config.oneNumberHours,
        threshold: config.oneNumber[level],
      },
    })
  }
  return hits
}

/**
 * Wangiri ("one ring and cut"): short or unanswered inbound calls from foreign countries the
 * company rarely hears from, meant to make people call back a premium number. Their numbers are
 * flagged so that a call-back is refused for some days.
 */
export function wangiri({
  config,
  homeCountry,
  baseline,
  recent,
  now,
}: SignalContext): SignalHit[] {
  const calls = within(recent, now, config.wangiriMinutes).filter(
    (call) =>
      call.direction === 'inbound' &&
      call.number !== null &&
      call.country !== homeCountry &&
      (baseline.inboundByCountry.get(call.country ?? NO_COUNTRY) ?? 0) < config.rareCountryCalls &&
      (!call.answered || call.durationSeconds <= config.wangiriRingSeconds)
  )
  const level = levelOf(calls.length, config.wangiri)
  if (!level) return []
  const numbers = [...new Set(calls.map((call) => call.number!))]
  return [
    {
      signal: 'wangiri',
      level,
      subject: 'inbound',
      userId: null,
      facts: {
        calls: calls.length,
        numbers: numbers.join(', '),
        countries: [...new Set(calls.map((call) => call.country ?? NO_COUNTRY))].join(', '),
        maxRingSeconds: config.wangiriRingSeconds,
        withinMinutes: config.wangiriMinutes,
        threshold: config.wangiri[level],
      },
      flagNumbers: numbers,
    },
  ]
}

/** Failed web logins and SIP authentications counted from the audit log for one company (or none). */
export function authFailures(
  config: DetectionConfig,
  counts: { companyId: number | null; webLogins: number; sipAuthentications: number }
): SignalHit[] {
  const total = counts.webLogins + counts.sipAuthentications
  const level = levelOf(total, config.authFailures)
  if (!level) return []
  return [
    {
      signal: 'auth_failures',
      level,
      subject: 'all',
      userId: null,
      facts: {
        failures: total,
        webLogins: counts.webLogins,
        sipAuthentications: counts.sipAuthentications,
        withinMinutes: config.authFailureMinutes,
        threshold: config.authFailures[level],
      },
    },
  ]
}

/**
 * Every call-based signal: the company's traffic, and each call that ended since the last analysis
 * (the triggers) on its own.
 */
export function callSignals(context: SignalContext, ended: CallFact[]): SignalHit[] {
  return [
    ...rareCountryBurst(context),
    ...offHoursCalls(context),
    ...ended.flatMap((call) => longInternational(context, call)),
    ...shortCalls(context),
    ...sequentialNumbers(context),
    ...oneNumber(context),
    ...wangiri(context),
  ]
}
