import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import fraudConfig from '#config/fraud'
import { SEEDED_RISK_PREFIXES } from '#database/migrations/0500_create_fraud_tables'
import { buildBaseline, hourOfWeek } from '#fraud/detection/baseline'
import {
  authFailures,
  levelOf,
  longestSequentialRun,
  longInternational,
  offHoursCalls,
  oneNumber,
  rareCountryBurst,
  sequentialNumbers,
  shortCalls,
  type SignalContext,
  wangiri,
} from '#fraud/detection/signals'
import type { CallFact } from '#fraud/detection/types'
import NumberRisk from '#fraud/services/number_risk'
import { burst, businessHistory, type CdrSpec } from '#tests/support/fraud_traffic'

const config = fraudConfig.detection
const risk = new NumberRisk(SEEDED_RISK_PREFIXES)
const zone = 'Europe/Berlin'
/** A Wednesday at 11:00 in Berlin: office hours. */
const wednesday = DateTime.fromISO('2026-11-25T11:00:00', { zone })
/** A Sunday at 03:00 in Berlin: night and weekend. */
const sundayNight = DateTime.fromISO('2026-11-29T03:00:00', { zone })

/** The generator's CDR specs as the detection reads them. */
function facts(specs: CdrSpec[]): CallFact[] {
  return specs.map((spec, index) => {
    const answered =
      spec.answeredSeconds !== null && spec.answeredSeconds !== undefined && !spec.refused
    return {
      id: index + 1,
      userId: spec.userId ?? null,
      direction: spec.direction ?? 'outbound',
      emergency: spec.emergency ?? false,
      number: spec.number,
      country: risk.classify(spec.number).country,
      startedAt: spec.startedAt.toMillis(),
      endedAt: spec.startedAt
        .plus({ seconds: 5 + (answered ? spec.answeredSeconds! : 0) })
        .toMillis(),
      answered,
      durationSeconds: answered ? spec.answeredSeconds! : 0,
      refused: spec.refused ?? false,
    }
  })
}

function context(
  now: DateTime,
  recentSpecs: CdrSpec[],
  historySpecs = businessHistory({ companyId: 1, userIds: [7, 8], now })
): SignalContext {
  const baseline = buildBaseline(facts(historySpecs), {
    now: now.toMillis(),
    timeZone: zone,
    weeks: config.baselineWeeks,
    excludedUsers: new Set(),
  })
  return { config, homeCountry: 'DE', baseline, recent: facts(recentSpecs), now: now.toMillis() }
}

const call =
  (number: string, extra: Partial<CdrSpec> = {}) =>
  () => ({ companyId: 1, userId: 7, number, answeredSeconds: 60, ...extra })

test.group('Fraud signals: levels', () => {
  test('a figure is nothing below warning, warning from it, critical from critical', ({
    assert,
  }) => {
    assert.isNull(levelOf(4, { warning: 5, critical: 10 }))
    assert.equal(levelOf(5, { warning: 5, critical: 10 }), 'warning')
    assert.equal(levelOf(9, { warning: 5, critical: 10 }), 'warning')
    assert.equal(levelOf(10, { warning: 5, critical: 10 }), 'critical')
  })
})

test.group('Fraud signals: baselines', () => {
  test('the hour of the week is local wall-clock time on both sides of a DST change', ({
    assert,
  }) => {
    // 29 March 2026: clocks go from 02:00 to 03:00 in Berlin; 25 October 2026: back from 03:00 to 02:00
    assert.equal(
      hourOfWeek(DateTime.fromISO('2026-03-29T01:30:00', { zone }).toMillis(), zone),
      6 * 24 + 1
    )
    assert.equal(
      hourOfWeek(DateTime.fromISO('2026-03-29T03:30:00', { zone }).toMillis(), zone),
      6 * 24 + 3
    )
    assert.equal(hourOfWeek(DateTime.fromISO('2026-03-30T09:15:00', { zone }).toMillis(), zone), 9)
    assert.equal(hourOfWeek(DateTime.fromISO('2026-10-26T09:15:00', { zone }).toMillis(), zone), 9)
    // the same instant is another hour in New York
    const instant = DateTime.fromISO('2026-03-30T09:15:00', { zone }).toMillis()
    assert.equal(hourOfWeek(instant, 'America/New_York'), 3)
  })

  test('a business history over a DST change counts its calls at the local office hours only', ({
    assert,
  }) => {
    const now = DateTime.fromISO('2026-04-08T12:00:00', { zone })
    const history = businessHistory({ companyId: 1, userIds: [7], now })
    const baseline = buildBaseline(facts(history), {
      now: now.toMillis(),
      timeZone: zone,
      weeks: 4,
      excludedUsers: new Set(),
    })
    const byHour = baseline.outboundByHour
    const office = byHour.reduce(
      (sum, calls, hour) => (hour % 24 >= 8 && hour % 24 < 18 && hour < 120 ? sum + calls : sum),
      0
    )
    assert.equal(
      office,
      20 * 20,
      '20 working days with 20 calls each, all between 08:00 and 18:00 local'
    )
    assert.isAbove(baseline.outboundByCountry.get('DE')!, 300)
    assert.isAbove(baseline.inboundByCountry.get('DE')!, 0)
  })

  test('calls of users under a restriction of processing (Art. 18 GDPR) stay out of the baseline', ({
    assert,
  }) => {
    const history = businessHistory({ companyId: 1, userIds: [7, 8], now: wednesday })
    const all = buildBaseline(facts(history), {
      now: wednesday.toMillis(),
      timeZone: zone,
      weeks: 4,
      excludedUsers: new Set(),
    })
    const without = buildBaseline(facts(history), {
      now: wednesday.toMillis(),
      timeZone: zone,
      weeks: 4,
      excludedUsers: new Set([8]),
    })
    const ofUser8 = history.filter((spec) => spec.userId === 8).length
    assert.isAbove(ofUser8, 0)
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0)
    assert.equal(sum(all.outboundByHour) - sum(without.outboundByHour), ofUser8)
  })
})

test.group('Fraud signals: each fires at its threshold and not below', () => {
  test('burst to a rarely called country', ({ assert }) => {
    const below = burst(
      config.rareCountryBurst.warning - 1,
      wednesday,
      60,
      call('+23276123456', { refused: true })
    )
    assert.deepEqual(rareCountryBurst(context(wednesday, below)), [])
    const warning = burst(
      config.rareCountryBurst.warning,
      wednesday,
      60,
      call('+23276123456', { refused: true })
    )
    const [hit] = rareCountryBurst(context(wednesday, warning))
    assert.deepInclude(hit, {
      signal: 'rare_country_burst',
      level: 'warning',
      subject: 'SL',
      userId: 7,
    })
    assert.deepInclude(hit.facts, {
      country: 'SL',
      calls: 5,
      refused: 5,
      baselineCalls: 0,
      threshold: 5,
    })
    const critical = burst(config.rareCountryBurst.critical, wednesday, 60, call('+23276123456'))
    assert.equal(rareCountryBurst(context(wednesday, critical))[0].level, 'critical')
  })

  test('a burst to a usual country is no signal, nor one older than the window', ({ assert }) => {
    assert.deepEqual(
      rareCountryBurst(context(wednesday, burst(20, wednesday, 60, call('+4312345678')))),
      []
    )
    const old = burst(
      20,
      wednesday.minus({ minutes: config.burstMinutes + 1 }),
      1,
      call('+23276123456')
    )
    assert.deepEqual(rareCountryBurst(context(wednesday, old)), [])
  })

  test('calls at night or on the weekend against the baseline', ({ assert }) => {
    const below = burst(config.offHours.warning - 1, sundayNight, 120, call('+4930123456'))
    assert.deepEqual(offHoursCalls(context(sundayNight, below)), [])
    const [hit] = offHoursCalls(
      context(sundayNight, burst(config.offHours.warning, sundayNight, 120, call('+4930123456')))
    )
    assert.deepInclude(hit, { signal: 'off_hours', level: 'warning' })
    assert.deepInclude(hit.facts, { calls: 10, hourOfWeek: 'Sunday 03:00', baselineWeeklyMean: 0 })
    const critical = burst(config.offHours.critical, sundayNight, 60, call('+4930123456'))
    assert.equal(offHoursCalls(context(sundayNight, critical))[0].level, 'critical')
    // the same calls at Wednesday 11:00 are office hours
    assert.deepEqual(
      offHoursCalls(
        context(wednesday, burst(config.offHours.critical, wednesday, 60, call('+4930123456')))
      ),
      []
    )
  })

  test('a night shift the baseline knows is no signal', ({ assert }) => {
    // a history with 15 calls every Sunday 03:00-03:59: 15 now is usual (factor 3 × mean 15)
    const history = [0, 1, 2, 3].flatMap((week) =>
      burst(
        15,
        sundayNight.minus({ weeks: week + 1 }).plus({ minutes: 50 }),
        60,
        call('+4930123456')
      )
    )
    const recent = burst(config.offHours.warning + 5, sundayNight, 60, call('+4930123456'))
    assert.deepEqual(offHoursCalls(context(sundayNight, recent, history)), [])
  })

  test('a long international call', ({ assert }) => {
    const ctx = context(wednesday, [])
    const [below] = facts([
      {
        companyId: 1,
        userId: 7,
        number: '+12125550100',
        startedAt: wednesday,
        answeredSeconds: 60 * 60 - 1,
      },
    ])
    assert.deepEqual(longInternational(ctx, below), [])
    const [warning] = facts([
      {
        companyId: 1,
        userId: 7,
        number: '+12125550100',
        startedAt: wednesday,
        answeredSeconds: 60 * 60,
      },
    ])
    assert.deepInclude(longInternational(ctx, warning)[0].facts, {
      minutes: 60,
      country: 'US',
      number: '+12125550100',
    })
    const [critical] = facts([
      {
        companyId: 1,
        userId: 7,
        number: '+12125550100',
        startedAt: wednesday,
        answeredSeconds: 180 * 60,
      },
    ])
    assert.equal(longInternational(ctx, critical)[0].level, 'critical')
    const [domestic] = facts([
      {
        companyId: 1,
        userId: 7,
        number: '+4930123456',
        startedAt: wednesday,
        answeredSeconds: 300 * 60,
      },
    ])
    assert.deepEqual(longInternational(ctx, domestic), [])
  })

  test('a burst of very short calls', ({ assert }) => {
    const short = (count: number) =>
      burst(count, wednesday, 20, (index) => ({
        companyId: 1,
        userId: 7,
        number: `+49301234${500 + index * 7}`,
        answeredSeconds: config.shortCallSeconds,
      }))
    assert.deepEqual(shortCalls(context(wednesday, short(config.shortCalls.warning - 1))), [])
    assert.deepInclude(shortCalls(context(wednesday, short(config.shortCalls.warning)))[0], {
      level: 'warning',
    })
    assert.deepInclude(shortCalls(context(wednesday, short(config.shortCalls.critical)))[0].facts, {
      calls: 25,
      maxSeconds: 10,
    })
    const longer = burst(
      30,
      wednesday,
      10,
      call('+4930123456', { answeredSeconds: config.shortCallSeconds + 1 })
    )
    assert.deepEqual(shortCalls(context(wednesday, longer)), [])
  })

  test('sequential dialling through a number range', ({ assert }) => {
    const range = (count: number) =>
      burst(count, wednesday, 20, (index) => call(`+4930123${4500 + index}`)())
    assert.deepEqual(
      sequentialNumbers(context(wednesday, range(config.sequentialNumbers.warning - 1))),
      []
    )
    const [hit] = sequentialNumbers(context(wednesday, range(config.sequentialNumbers.warning)))
    assert.deepInclude(hit.facts, { numbers: 5, from: '+49301234500', to: '+49301234504' })
    assert.equal(
      sequentialNumbers(context(wednesday, range(config.sequentialNumbers.critical)))[0].level,
      'critical'
    )
    assert.deepEqual(longestSequentialRun(['+49301', '+49303', '+493102', '+493103']), {
      length: 2,
      from: '+493102',
      to: '+493103',
    })
  })

  test('many calls to one number', ({ assert }) => {
    const many = (count: number) => burst(count, wednesday, 600, call('+4930999888'))
    assert.deepEqual(oneNumber(context(wednesday, many(config.oneNumber.warning - 1))), [])
    assert.deepInclude(oneNumber(context(wednesday, many(config.oneNumber.warning)))[0], {
      level: 'warning',
      subject: '+4930999888',
    })
    assert.equal(
      oneNumber(context(wednesday, many(config.oneNumber.critical)))[0].level,
      'critical'
    )
  })

  test('Wangiri: short inbound calls from an unusual country flag their numbers', ({ assert }) => {
    const rings = (count: number, extra: Partial<CdrSpec> = {}) =>
      burst(count, wednesday, 90, (index) => ({
        companyId: 1,
        direction: 'inbound' as const,
        number: `+2327612345${index}`,
        answeredSeconds: null,
        ...extra,
      }))
    assert.deepEqual(wangiri(context(wednesday, rings(config.wangiri.warning - 1))), [])
    const [hit] = wangiri(context(wednesday, rings(config.wangiri.warning)))
    assert.deepInclude(hit, {
      level: 'warning',
      flagNumbers: ['+23276123450', '+23276123451', '+23276123452'],
    })
    assert.deepInclude(hit.facts, { calls: 3, countries: 'SL' })
    assert.equal(wangiri(context(wednesday, rings(config.wangiri.critical)))[0].level, 'critical')
    // answered conversations are no Wangiri, nor calls from home
    assert.deepEqual(
      wangiri(context(wednesday, rings(5, { answeredSeconds: config.wangiriRingSeconds + 1 }))),
      []
    )
    assert.deepEqual(wangiri(context(wednesday, rings(5, { number: '+4930123456' }))), [])
  })

  test('failed web logins and SIP authentications', ({ assert }) => {
    assert.deepEqual(
      authFailures(config, { companyId: 1, webLogins: 5, sipAuthentications: 4 }),
      []
    )
    const [hit] = authFailures(config, { companyId: 1, webLogins: 5, sipAuthentications: 5 })
    assert.deepInclude(hit, { level: 'warning' })
    assert.deepInclude(hit.facts, { failures: 10, webLogins: 5, sipAuthentications: 5 })
    assert.equal(
      authFailures(config, { companyId: 1, webLogins: 0, sipAuthentications: 30 })[0].level,
      'critical'
    )
  })
})
