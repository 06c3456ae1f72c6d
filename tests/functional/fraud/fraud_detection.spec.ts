import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import emitter from '@adonisjs/core/services/emitter'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditEntry from '#accounts/models/audit_entry'
import AuditLog from '#accounts/services/audit_log'
import CallRecord from '#calls/models/call_record'
import type { CallAttempt } from '#calls/gates/call_gate'
import fraudConfig from '#config/fraud'
import AnalyseCall, { ENDED_MARGIN_MS } from '#fraud/listeners/analyse_call'
import FraudCompanyPolicy from '#fraud/models/fraud_company_policy'
import FraudFlaggedNumber from '#fraud/models/fraud_flagged_number'
import FraudReviewCase from '#fraud/models/fraud_review_case'
import FraudSignal from '#fraud/models/fraud_signal'
import type { FraudAlertChannel } from '#fraud/services/fraud_alert_channel'
import FraudDetector from '#fraud/services/fraud_detector'
import FraudResponse from '#fraud/services/fraud_response'
import type { ProcessingRestrictionSource } from '#core/processing_restrictions'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { recordDispatches } from '#tests/support/jobs'
import { burst, businessHistory, writeCdrs } from '#tests/support/fraud_traffic'

/** An alert channel that records what it was told (the real one delivers by mail and webhook). */
class RecordingAlerts implements FraudAlertChannel {
  raised: Array<{
    key: string
    severity: string
    facts: Record<string, unknown>
    companyId: number | null
    kind: string
  }> = []
  cleared: string[] = []
  async raise(
    key: string,
    severity: string,
    facts: Record<string, unknown>,
    options: { companyId: number | null; kind: string }
  ) {
    this.raised.push({ key, severity, facts, companyId: options.companyId, kind: options.kind })
  }
  async clear(key: string) {
    this.cleared.push(key)
  }
}

/** Wednesday 11:00 in Berlin, whole seconds (CDR times are stored to the second). */
const now = DateTime.fromISO('2026-11-25T11:00:00', { zone: 'Europe/Berlin' })

async function detection(restricted: Record<number, number[]> = {}) {
  const alerts = new RecordingAlerts()
  const policies = await app.container.make('fraud.policies')
  const restrictions: ProcessingRestrictionSource = {
    restrictedUserIds: async (companyId) => new Set(restricted[companyId] ?? []),
  }
  const detector = new FraudDetector(
    fraudConfig,
    policies,
    new FraudResponse(fraudConfig, alerts, policies),
    restrictions
  )
  return { alerts, detector }
}

function attempt(company: Company, user: User, destination: string): CallAttempt {
  return {
    company,
    user,
    destination,
    carrierNames: ['first'],
    callUuid: randomUUID(),
    deviceId: null,
    sourceAddress: '127.0.0.2',
    kind: 'direct',
    pricePerMinuteCents: null,
  }
}

test.group('Fraud detection on CDRs', (group) => {
  group.each.setup(async () => {
    ;(await app.container.make('fraud.policies')).forgetAll()
    return testUtils.db().withGlobalTransaction()
  })
  group.each.teardown(async () => (await app.container.make('fraud.leases')).written())

  test('a burst to a rarely called country at critical level suspends international calling and queues a review', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    await writeCdrs(businessHistory({ companyId: company.id, userIds: [user.id], now }))
    const ids = await writeCdrs(
      burst(fraudConfig.detection.rareCountryBurst.critical, now, 45, () => ({
        companyId: company.id,
        userId: user.id,
        number: '+23276123456',
        answeredSeconds: 40,
      }))
    )
    const { alerts, detector } = await detection()

    const hits = await detector.analyseCall(company.id, ids.at(-1)!, now.toMillis())
    assert.deepEqual(
      hits.map((hit) => `${hit.signal}:${hit.level}`),
      ['rare_country_burst:critical']
    )
    const signal = await FraudSignal.findByOrFail('companyId', company.id)
    assert.deepInclude(signal.facts, { country: 'SL', calls: 10, baselineCalls: 0, threshold: 10 })
    assert.deepEqual(
      alerts.raised.map((alert) => [alert.key, alert.severity, alert.companyId, alert.kind]),
      [
        [
          `fraud:rare_country_burst:company:${company.id}:SL`,
          'critical',
          company.id,
          'fraud_rare_country_burst',
        ],
      ]
    )
    assert.equal(
      (await FraudCompanyPolicy.findByOrFail('companyId', company.id)).outboundSuspension,
      'international_premium'
    )
    const reviewCase = await FraudReviewCase.findByOrFail('companyId', company.id)
    assert.deepInclude(reviewCase.serialize(), {
      status: 'open',
      signalId: signal.id,
      previousSuspension: 'none',
    })
    assert.exists(
      await AuditEntry.query()
        .where('action', 'fraud.suspended.automatically')
        .where('company_id', company.id)
        .first()
    )

    // the gate now refuses international calls, Germany still passes
    const gates = await app.container.make('calls.gates')
    assert.deepInclude(await gates.check(attempt(company, user, '+431234567')), {
      allow: false,
      reason: 'outbound_suspended',
    })
    assert.isTrue((await gates.check(attempt(company, user, '+4930123456'))).allow)

    // the condition lasts: the next call's analysis records and raises nothing new
    await detector.analyseCall(company.id, ids.at(-1)!, now.plus({ seconds: 30 }).toMillis())
    assert.lengthOf(await FraudSignal.query().where('company_id', company.id), 1)
    assert.lengthOf(alerts.raised, 1)
  })

  test('a warning raises an alert and suspends nothing; one call fewer is no signal', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    await writeCdrs(businessHistory({ companyId: company.id, userIds: [user.id], now }))
    const { warning } = fraudConfig.detection.rareCountryBurst
    const ids = await writeCdrs(
      burst(warning - 1, now, 60, () => ({
        companyId: company.id,
        userId: user.id,
        number: '+5351234567',
        refused: true,
      }))
    )
    const { alerts, detector } = await detection()
    assert.deepEqual(await detector.analyseCall(company.id, ids.at(-1)!, now.toMillis()), [])

    const [last] = await writeCdrs([
      {
        companyId: company.id,
        userId: user.id,
        number: '+5351234567',
        refused: true,
        startedAt: now.plus({ seconds: 30 }),
      },
    ])
    const hits = await detector.analyseCall(company.id, last, now.plus({ seconds: 30 }).toMillis())
    assert.deepEqual(
      hits.map((hit) => `${hit.signal}:${hit.level}`),
      ['rare_country_burst:warning']
    )
    assert.equal(alerts.raised[0].severity, 'warning')
    assert.isNull(await FraudCompanyPolicy.findBy('companyId', company.id))
    assert.isNull(await FraudReviewCase.findBy('companyId', company.id))
  })

  test('users under a restriction of processing are left out of the baseline', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const [usual, restricted] = [
      await makeUser('member', company),
      await makeUser('member', company),
    ]
    // only the restricted user ever called Cuba: without them Cuba is a rarely called country
    await writeCdrs(
      businessHistory({
        companyId: company.id,
        userIds: [restricted.id],
        now,
        callsPerDay: 4,
        destinations: [{ prefix: '+537', share: 1 }],
      })
    )
    const ids = await writeCdrs(
      burst(6, now, 60, () => ({
        companyId: company.id,
        userId: usual.id,
        number: '+5371234567',
        answeredSeconds: 30,
      }))
    )

    const plain = await detection()
    assert.deepEqual(await plain.detector.analyseCall(company.id, ids.at(-1)!, now.toMillis()), [])
    const honoured = await detection({ [company.id]: [restricted.id] })
    const hits = await honoured.detector.analyseCall(company.id, ids.at(-1)!, now.toMillis())
    assert.deepEqual(
      hits.map((hit) => `${hit.signal}:${hit.level}:${hit.facts.baselineCalls}`),
      ['rare_country_burst:warning:0']
    )
  })

  test('Wangiri: short inbound calls from an unusual country; calling one back is refused by the gate', async ({
    assert,
  }) => {
    const company = await makeCompany('active', { country: 'DE' })
    const user = await makeUser('member', company)
    await FraudCompanyPolicy.create({
      companyId: company.id,
      allowedCountries: ['DE', 'SL'],
      enabledRiskClasses: ['high_risk'],
      outboundSuspension: 'none',
      limits: {},
    })
    const ids = await writeCdrs(
      burst(fraudConfig.detection.wangiri.warning, now, 120, (index) => ({
        companyId: company.id,
        direction: 'inbound' as const,
        number: `+2327612345${index}`,
        answeredSeconds: index === 0 ? 2 : null,
      }))
    )
    const { detector } = await detection()
    const hits = await detector.analyseCall(company.id, ids.at(-1)!, now.toMillis())
    assert.deepEqual(
      hits.map((hit) => `${hit.signal}:${hit.level}`),
      ['wangiri:warning']
    )
    const flagged = await FraudFlaggedNumber.query()
      .where('company_id', company.id)
      .orderBy('number')
    assert.deepEqual(
      flagged.map((row) => row.number),
      ['+23276123450', '+23276123451', '+23276123452']
    )
    assert.equal(
      flagged[0].flaggedUntil.toMillis(),
      now.plus({ days: fraudConfig.detection.wangiriFlagDays }).toMillis()
    )

    // the flag lasts from the signal's time, which is the test's clock, not today: move it into the future
    await FraudFlaggedNumber.query()
      .where('company_id', company.id)
      .update({ flagged_until: DateTime.utc().plus({ days: 7 }).toSQL({ includeOffset: false }) })
    ;(await app.container.make('fraud.policies')).forgetCompany(company.id)
    const gates = await app.container.make('calls.gates')
    assert.deepInclude(await gates.check(attempt(company, user, '+23276123451')), {
      allow: false,
      reason: 'flagged_number',
    })
    assert.isTrue(
      (await gates.check(attempt(company, user, '+23276999999'))).allow,
      'another Sierra Leone number the company may call'
    )
  })

  test('bursts of failed web logins and SIP authentications from the audit log', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    const { warning } = fraudConfig.detection.authFailures
    for (let index = 0; index < warning - 1; index++) {
      await AuditLog.record({
        action: index % 2 ? 'auth.login.failed' : 'sip.auth.failed',
        actor: user,
        companyId: company.id,
        ip: '192.0.2.7',
      })
    }
    const { detector } = await detection()
    const at = Date.now() + 1000
    assert.deepEqual(
      (await detector.analyseAuthFailures(at)).filter((entry) => entry.companyId === company.id),
      []
    )
    await AuditLog.record({
      action: 'sip.auth.failed',
      actor: user,
      companyId: company.id,
      ip: '192.0.2.7',
    })
    const [found] = (await detector.analyseAuthFailures(at)).filter(
      (entry) => entry.companyId === company.id
    )
    assert.deepInclude(found.hits[0], { signal: 'auth_failures', level: 'warning' })
    assert.deepInclude(found.hits[0].facts, { failures: 10, webLogins: 4, sipAuthentications: 6 })
    // the window moves on: fifteen minutes later they are history
    const later = at + fraudConfig.detection.authFailureMinutes * 60_000 + 1000
    assert.deepEqual(
      (await detector.analyseAuthFailures(later)).filter((entry) => entry.companyId === company.id),
      []
    )
  })

  test('every ended call is analysed in a background job', async ({ assert, cleanup }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    const dispatched = await recordDispatches(cleanup)
    const record = await CallRecord.create({
      uuid: randomUUID(),
      companyId: company.id,
      userId: user.id,
      direction: 'outbound',
      emergency: false,
      calleeNumber: '+4930123456',
      callerWithheld: false,
      region: 'eu',
      startedAt: DateTime.utc(),
      endedAt: DateTime.utc(),
    } as Partial<CallRecord>)
    await emitter.emit('call:ended', { record })
    const emergency = await CallRecord.create({
      uuid: randomUUID(),
      companyId: company.id,
      userId: user.id,
      direction: 'outbound',
      emergency: true,
      calleeNumber: '112',
      callerWithheld: false,
      region: 'eu',
      startedAt: DateTime.utc(),
      endedAt: DateTime.utc(),
    } as Partial<CallRecord>)
    await emitter.emit('call:ended', { record: emergency })
    const analyses = dispatched.filter((entry) => entry.name === 'fraud.analyse_call')
    assert.lengthOf(analyses, 1)
    assert.equal(analyses[0].payload.companyId, company.id)
    assert.isAtMost(analyses[0].payload.endedSince, record.endedAt!.toMillis())
    assert.match(analyses[0].options.key!, new RegExp(`^fraud\\.analyse:${company.id}:\\d+$`))
    assert.isAbove(analyses[0].options.delayMs!, 0)
    assert.isAtMost(analyses[0].options.delayMs!, windowMs)
  })
})

/** analysisBatchSeconds in ms. */
const windowMs = fraudConfig.detection.analysisBatchSeconds * 1000

test.group('Fraud detection once per company and window', (group) => {
  group.each.setup(async () => {
    ;(await app.container.make('fraud.policies')).forgetAll()
    ;(await app.container.make('fraud.detector')).forgetAll()
    return testUtils.db().withGlobalTransaction()
  })
  group.each.teardown(async () => (await app.container.make('fraud.leases')).written())

  /** An ended call's CDR as call:ended carries it, ended `endedAt` (ms), answered `seconds`. */
  async function endedCall(company: Company, number: string, endedAt: number, seconds: number) {
    const [id] = await writeCdrs([
      {
        companyId: company.id,
        number,
        answeredSeconds: seconds,
        startedAt: DateTime.fromMillis(endedAt).minus({ seconds: 5 + seconds }),
      },
    ])
    return CallRecord.findOrFail(id)
  }

  test('calls ending in one window share one delayed job; the next window gets its own', async ({
    assert,
    cleanup,
  }) => {
    const company = await makeCompany('active')
    const dispatched = await recordDispatches(cleanup)
    const start = Math.floor(now.toMillis() / windowMs) * windowMs
    const call = await endedCall(company, '+4930123456', start + 2000, 30)
    await new AnalyseCall(() => start + 2500).handle({ record: call })
    await new AnalyseCall(() => start + windowMs - 1).handle({ record: call })
    await new AnalyseCall(() => start + windowMs).handle({ record: call })
    assert.deepEqual(
      dispatched.map((entry) => [entry.name, entry.payload, entry.options]),
      [
        [
          'fraud.analyse_call',
          { companyId: company.id, endedSince: start - ENDED_MARGIN_MS },
          { key: `fraud.analyse:${company.id}:${start / windowMs}`, delayMs: windowMs - 2500 },
        ],
        [
          'fraud.analyse_call',
          { companyId: company.id, endedSince: start - ENDED_MARGIN_MS },
          { key: `fraud.analyse:${company.id}:${start / windowMs}`, delayMs: 1 },
        ],
        [
          'fraud.analyse_call',
          { companyId: company.id, endedSince: start + windowMs - ENDED_MARGIN_MS },
          { key: `fraud.analyse:${company.id}:${start / windowMs + 1}`, delayMs: windowMs },
        ],
      ]
    )
    // call:ended announced after its window's margin: the window's job may have run, so the
    // call is analysed on its own, at once
    await new AnalyseCall(() => start + 2000 + ENDED_MARGIN_MS + windowMs).handle({ record: call })
    assert.deepEqual(dispatched.at(-1)!.payload, { companyId: company.id, callId: call.id })
    assert.deepEqual(dispatched.at(-1)!.options, { key: `fraud.analyse_call:${call.uuid}` })
  })

  test('two calls ending in one window give one analysis, which covers each ended call', async ({
    assert,
    cleanup,
  }) => {
    const company = await makeCompany('active', { country: 'DE' })
    const alerts = await app.container.make('fraud.alerts')
    const { raise, clear } = alerts
    alerts.raise = async () => {}
    alerts.clear = async () => {}
    cleanup(() => void Object.assign(alerts, { raise, clear }))
    const detector = await app.container.make('fraud.detector')
    const original = { analyseCall: detector.analyseCall, analyseCompany: detector.analyseCompany }
    const analyses: number[] = []
    detector.analyseCall = async () => assert.fail('no call is analysed on its own')
    detector.analyseCompany = async (companyId, endedSince, at) => {
      analyses.push(companyId)
      return original.analyseCompany.call(detector, companyId, endedSince, at)
    }
    cleanup(() => void Object.assign(detector, original))

    // The job runs on the real clock (drain runs it now): the calls end just before it. The
    // listener's clock stands in the middle of the window, so no timer fires before drain; the
    // queue is shared with other tests' jobs, so what it queues is read from the dispatches.
    const at = Date.now()
    const listenerClock = () => Math.floor(at / windowMs) * windowMs + windowMs / 2
    const calls = [
      await endedCall(company, '+4930123456', at - 3000, 40),
      // 65 minutes to New York: long_international, though another call ends after it
      await endedCall(company, '+12125550100', at - 2000, 65 * 60),
      await endedCall(company, '+4930123457', at - 1000, 20),
    ]
    const queue = await app.container.make('jobs.queue')
    const dispatch = queue.dispatch
    const dispatched: Array<{ key?: string; delayMs?: number }> = []
    queue.dispatch = async (job, payload, options = {}) => {
      dispatched.push(options)
      return dispatch.call(queue, job, payload, options)
    }
    cleanup(() => void (queue.dispatch = dispatch))
    for (const call of calls) {
      await new AnalyseCall(listenerClock, windowMs / 1000).handle({ record: call })
    }
    assert.lengthOf(new Set(dispatched.map((options) => options.key)), 1, 'one key for the window')
    assert.isTrue(
      dispatched.every((options) => options.delayMs! > 0),
      "waits for the window's end"
    )
    assert.deepEqual(analyses, [], 'nothing analysed before the window ends')
    await queue.drain()

    assert.deepEqual(analyses, [company.id])
    const signals = await FraudSignal.query().where('company_id', company.id)
    assert.deepEqual(
      signals.map((signal) => [signal.signal, signal.level, signal.alertKey]),
      [
        [
          'long_international',
          'warning',
          `fraud:long_international:company:${company.id}:call:${calls[1].id}`,
        ],
      ]
    )
  })
})
