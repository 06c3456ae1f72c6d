import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import emitter from '@adonisjs/core/services/emitter'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditEntry from '#accounts/models/audit_entry'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import type { CallAttempt } from '#calls/gates/call_gate'
import CallRecord from '#calls/models/call_record'
import fraudConfig from '#config/fraud'
import FraudCompanyPolicy from '#fraud/models/fraud_company_policy'
import FraudReviewCase from '#fraud/models/fraud_review_case'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { drainJobs } from '#tests/support/jobs'
import { enableTwoFactor } from '#tests/support/two_factor'
import { resetCounters } from '#tests/support/counters'

/**
 * The response to a critical signal, end to end in process: call attempts through the call gates
 * (what the B2BUA runs), their CDRs ended, the analysis jobs on the app's queue; then the review
 * queue where staff with fraud.review clear, confirm or adjust limits, each decision audited.
 */

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

/** One call through the gates; allowed or refused, its CDR ends and call:ended fires (as the B2BUA does). */
async function call(company: Company, user: User, destination: string) {
  const gates = await app.container.make('calls.gates')
  const placed = attempt(company, user, destination)
  const decision = await gates.check(placed)
  const now = DateTime.utc().startOf('second')
  const record = await CallRecord.create({
    uuid: placed.callUuid,
    companyId: company.id,
    userId: user.id,
    direction: 'outbound',
    emergency: false,
    calleeNumber: destination,
    callerWithheld: false,
    region: 'eu',
    nodeId: 'fraud-review-test',
    startedAt: now,
    answeredAt: decision.allow ? now : null,
    endedAt: now,
    durationSeconds: decision.allow ? 20 : null,
    disconnectCause: decision.allow ? 'answered_normal' : 'refused',
  } as Partial<CallRecord>)
  await emitter.emit('call:ended', { record })
  return decision
}

/** A company that may call Sierra Leone (high risk enabled), one member, and alerts recorded. */
async function scene(cleanup: (fn: () => void) => void) {
  const company = await makeCompany('active')
  const member = await makeUser('member', company)
  await FraudCompanyPolicy.create({
    companyId: company.id,
    allowedCountries: ['DE', 'AT', 'SL'],
    enabledRiskClasses: ['high_risk'],
    outboundSuspension: 'none',
    // the burst must reach the detection, not stop at the member's calls per minute
    limits: { user: { perMinute: 100 } },
  })
  const alerts = await app.container.make('fraud.alerts')
  const raised: Array<{ key: string; severity: string }> = []
  const cleared: string[] = []
  const { raise, clear } = alerts
  alerts.raise = async (key, severity) => void raised.push({ key, severity })
  alerts.clear = async (key) => void cleared.push(key)
  cleanup(() => Object.assign(alerts, { raise, clear }))
  return { company, member, raised, cleared }
}

/** The burst: critical-many calls to Sierra Leone, analysed as the app's jobs do after each call. */
async function burstToSierraLeone(company: Company, member: User) {
  for (let index = 0; index < fraudConfig.detection.rareCountryBurst.critical; index++) {
    await call(company, member, `+2327612345${index % 10}`)
    await drainJobs()
  }
}

async function analyst() {
  const user = await makeUser('fraud_analyst')
  await enableTwoFactor(user)
  return user
}

test.group('Fraud response and review queue', (group) => {
  group.each.setup(async () => {
    await resetCounters()
    ;(await app.container.make('fraud.policies')).forgetAll()
    ;(await app.container.make('fraud.detector')).forgetAll()
    return testUtils.db().withGlobalTransaction()
  })
  group.each.teardown(async () => {
    await drainJobs()
    await (await app.container.make('fraud.leases')).written()
  })

  test('a burst to a high-risk country suspends the company and queues it; clearing lets calls through again', async ({
    client,
    assert,
    cleanup,
  }) => {
    const { company, member, raised, cleared } = await scene(cleanup)
    assert.isTrue(
      (await call(company, member, '+23276999000')).allow,
      'Sierra Leone is allowed before the burst'
    )
    await drainJobs()
    await burstToSierraLeone(company, member)

    assert.deepInclude(raised, {
      key: `fraud:rare_country_burst:company:${company.id}:SL`,
      severity: 'critical',
    })
    assert.deepInclude(await call(company, member, '+23276999001'), {
      allow: false,
      reason: 'outbound_suspended',
    })
    assert.deepInclude(await call(company, member, '+431234567'), {
      allow: false,
      reason: 'outbound_suspended',
    })
    assert.isTrue((await call(company, member, '+4930123456')).allow, 'calls at home go on')
    await drainJobs()
    const reviewCase = await FraudReviewCase.findByOrFail('companyId', company.id)
    assert.equal(reviewCase.status, 'open')

    const staff = await analyst()
    const queue = await client
      .get('/admin/fraud/reviews')
      .header('Accept-Language', 'en')
      .loginAs(staff)
    queue.assertStatus(200)
    assert.include(queue.text(), company.displayName)
    assert.include(queue.text(), 'Many calls to a rarely called country (Critical)')
    const page = await client.get(`/admin/fraud/reviews/${reviewCase.id}`).loginAs(staff)
    assert.include(page.text(), 'Viele Anrufe in ein selten angerufenes Land')
    assert.include(page.text(), 'Anrufe dorthin im Vergleichszeitraum: 0')
    assert.include(page.text(), 'Schwelle: 10')
    assert.notMatch(page.text(), /fraud\.(reviews|signals|facts|levels)\./)

    const noReason = await client
      .post(`/admin/fraud/reviews/${reviewCase.id}/clear`)
      .form({ reason: '' })
      .withCsrfToken()
      .redirects(0)
      .loginAs(staff)
    noReason.assertStatus(302)
    await reviewCase.refresh()
    assert.equal(reviewCase.status, 'open', 'no decision without a reason')

    const cleared302 = await client
      .post(`/admin/fraud/reviews/${reviewCase.id}/clear`)
      .form({ reason: 'Customer confirmed the calls to their Freetown branch.' })
      .withCsrfToken()
      .redirects(0)
      .loginAs(staff)
    cleared302.assertStatus(302)
    await reviewCase.refresh()
    assert.deepInclude(reviewCase.serialize(), {
      status: 'cleared',
      decidedById: staff.id,
      decisionReason: 'Customer confirmed the calls to their Freetown branch.',
    })
    const audit = await AuditEntry.query()
      .where('action', 'fraud.review.cleared')
      .where('company_id', company.id)
      .firstOrFail()
    assert.deepInclude(audit.details as object, {
      reason: 'Customer confirmed the calls to their Freetown branch.',
      before: 'international_premium',
      after: 'none',
    })
    assert.include(cleared, `fraud:rare_country_burst:company:${company.id}:SL`)
    assert.isTrue(
      (await call(company, member, '+23276999002')).allow,
      'cleared: Sierra Leone again'
    )

    // decided once: a second decision is refused
    await client
      .post(`/admin/fraud/reviews/${reviewCase.id}/confirm`)
      .form({ reason: 'too late now' })
      .withCsrfToken()
      .loginAs(staff)
    await reviewCase.refresh()
    assert.equal(reviewCase.status, 'cleared')
  })

  test('confirming keeps the suspension; adjusting limits tightens the gate; both audited with their reason', async ({
    client,
    assert,
    cleanup,
  }) => {
    const { company, member } = await scene(cleanup)
    await burstToSierraLeone(company, member)
    const reviewCase = await FraudReviewCase.findByOrFail('companyId', company.id)
    const staff = await analyst()

    await client
      .post(`/admin/fraud/reviews/${reviewCase.id}/limits`)
      .form({
        reason: 'Only two lines at once until clarified.',
        company_concurrent: 2,
        user_per_hour: 50,
      })
      .withCsrfToken()
      .loginAs(staff)
    const policy = await FraudCompanyPolicy.findByOrFail('companyId', company.id)
    assert.deepInclude(policy.limits.company!, { concurrent: 2 })
    assert.deepInclude(
      policy.limits.user!,
      { perMinute: 100, perHour: 50 },
      'earlier overrides stay'
    )
    assert.equal(policy.outboundSuspension, 'international_premium')
    assert.exists(
      await AuditEntry.query()
        .where('action', 'fraud.review.limits_adjusted')
        .where('company_id', company.id)
        .first()
    )
    const gates = await app.container.make('calls.gates')
    const held = [
      attempt(company, member, '+4930123001'),
      attempt(company, member, '+4930123002'),
      attempt(company, member, '+4930123003'),
    ]
    const decisions = [
      await gates.check(held[0]),
      await gates.check(held[1]),
      await gates.check(held[2]),
    ]
    assert.deepEqual(
      decisions.map((decision) => decision.allow),
      [true, true, false],
      'the third call at once is over the new company limit'
    )
    for (const placed of held.slice(0, 2))
      await (await app.container.make('fraud.leases')).release(placed.callUuid)

    await client
      .post(`/admin/fraud/reviews/${reviewCase.id}/confirm`)
      .form({ reason: 'Calls to numbers of a known IRSF range.' })
      .withCsrfToken()
      .loginAs(staff)
    await reviewCase.refresh()
    assert.equal(reviewCase.status, 'confirmed')
    assert.equal(
      (await FraudCompanyPolicy.findByOrFail('companyId', company.id)).outboundSuspension,
      'international_premium'
    )
    const audit = await AuditEntry.query()
      .where('action', 'fraud.review.confirmed')
      .where('company_id', company.id)
      .firstOrFail()
    assert.deepInclude(audit.details as object, {
      reason: 'Calls to numbers of a known IRSF range.',
      suspension: 'international_premium',
    })
    const queue = await client.get('/admin/fraud/reviews').loginAs(staff)
    assert.notInclude(queue.text(), company.displayName, 'decided cases leave the queue')
  })

  test('the admin dashboard shows the open review cases and since when the oldest waits', async ({
    assert,
    client,
  }) => {
    const staff = await analyst()
    const empty = await client.get('/admin').loginAs(staff)
    empty.assertStatus(200)
    assert.include(empty.text(), 'data-figure="openReviews"><a href="/admin/fraud/reviews">keine<')

    const company = await makeCompany('active')
    for (const [status, createdAt] of [
      ['open', '2026-11-30T08:15:00Z'],
      ['open', '2026-11-30T12:00:00Z'],
      ['cleared', '2026-11-29T08:00:00Z'],
    ] as const) {
      await FraudReviewCase.create({
        companyId: company.id,
        status,
        signalId: null,
        previousSuspension: 'none',
        createdAt: DateTime.fromISO(createdAt),
      })
    }
    const html = (await client.get('/admin').loginAs(staff)).text()
    assert.include(html, 'data-figure="openReviews"><a href="/admin/fraud/reviews">2 Fälle<')
    assert.include(html, 'data-figure="oldestReview">30.11.2026, 09:15<', 'German time')
  })
})
