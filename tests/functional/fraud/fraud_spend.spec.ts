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
import MemoryCounterStore from '#core/counters/memory_counter_store'
import fraudConfig from '#config/fraud'
import FraudCompanyPolicy, { type FraudLimitOverrides } from '#fraud/models/fraud_company_policy'
import SpendCounters from '#fraud/services/spend_counters'
import SpendWatch from '#fraud/services/spend_watch'
import FraudUserPolicy from '#fraud/models/fraud_user_policy'
import CompanyModel from '#accounts/models/company'
import { FakeClock } from '#sip'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { makePriceList } from '#tests/support/billing'
import { enableTwoFactor } from '#tests/support/two_factor'
import { resetCounters } from '#tests/support/counters'

/**
 * Spend: billing rates each CDR, the cost joins the company's and user's counters, the gate refuses
 * destinations above the maximum price per minute and calls beyond the daily or monthly cap, and
 * lets a call run only as long as the budget left lasts; the customer sees the figures.
 */

/** Vienna at 0.20 €/min, Berlin at 0.02 €/min (1/10,000 cent). */
const VIENNA = 200_000
const BERLIN = 20_000

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

async function scene(spend: FraudLimitOverrides['spend'] = {}) {
  const company = await makeCompany('active')
  const owner = await makeUser('owner', company)
  const member = await makeUser('member', company)
  await makePriceList(company.id, [
    {
      validFrom: '2020-01-01T00:00:00',
      rates: [
        { prefix: '43', price: VIENNA },
        { prefix: '4930', price: BERLIN },
      ],
    },
  ])
  await FraudCompanyPolicy.create({
    companyId: company.id,
    allowedCountries: fraudConfig.allowedCountries,
    enabledRiskClasses: [],
    outboundSuspension: 'none',
    limits: { spend },
  })
  return { company, owner, member }
}

/** An answered call of `seconds` that ends now: the B2BUA's call:ended, billing rates it. */
async function answeredCall(company: Company, user: User, destination: string, seconds: number) {
  // Spend counts on the day the call started (company time zone): in the first minutes after
  // midnight in Berlin a call that ended just now started yesterday, so it starts at midnight then
  // (its end a little in the future); CI failed so at 00:02 Berlin time (2026-12-04)
  const started = DateTime.max(
    DateTime.utc()
      .startOf('second')
      .minus({ seconds: seconds + 5 }),
    DateTime.now().setZone('Europe/Berlin').startOf('day').toUTC()
  )
  const record = await CallRecord.create({
    uuid: randomUUID(),
    companyId: company.id,
    userId: user.id,
    direction: 'outbound',
    emergency: false,
    calleeNumber: destination,
    callerWithheld: false,
    region: 'eu',
    nodeId: 'fraud-spend-test',
    startedAt: started,
    answeredAt: started.plus({ seconds: 5 }),
    endedAt: started.plus({ seconds: seconds + 5 }),
    durationSeconds: seconds,
    disconnectCause: 'answered_normal',
  } as Partial<CallRecord>)
  await emitter.emit('call:ended', { record })
  return record
}

test.group('Fraud spend: counters, maximum price, caps', (group) => {
  group.each.setup(async () => {
    await resetCounters()
    ;(await app.container.make('fraud.policies')).forgetAll()
    ;(await app.container.make('fraud.prices')).forgetAll()
    ;(await app.container.make('fraud.spend')).forgetAll()
    return testUtils.db().withGlobalTransaction()
  })
  group.each.teardown(async () => (await app.container.make('fraud.leases')).written())

  test('a rated call counts for its company and user; the customer sees it (the company only with billing.view)', async ({
    client,
    assert,
  }) => {
    const { company, owner, member } = await scene()
    await answeredCall(company, member, '+431234567', 120)
    const spend = await app.container.make('fraud.spend')
    const zone = 'Europe/Berlin'
    assert.deepEqual(await spend.spent(`company:${company.id}`, zone), {
      day: 2 * VIENNA,
      month: 2 * VIENNA,
    })
    assert.deepEqual(await spend.spent(`user:${member.id}`, zone), {
      day: 2 * VIENNA,
      month: 2 * VIENNA,
    })
    assert.deepEqual(await spend.spent(`user:${owner.id}`, zone), { day: 0, month: 0 })

    const ownerPage = (
      await client.get('/app/spend').header('Accept-Language', 'en').loginAs(owner)
    ).text()
    assert.include(ownerPage, 'The whole company')
    assert.match(ownerPage, /id="spend-company">.*€0\.40.*€0\.40/s)
    const memberPage = await client.get('/app/spend').loginAs(member)
    memberPage.assertStatus(200)
    assert.match(memberPage.text(), /id="spend-own">.*0,40\s€/s)
    assert.notInclude(
      memberPage.text(),
      'spend-company',
      'a member without billing.view sees only their own'
    )
  })

  test('the overview shows own costs today and this month, and with billing.view the company month against its limit', async ({
    client,
    assert,
  }) => {
    const { company, owner, member } = await scene({ monthlyCapMicro: 50_000_000 })
    await answeredCall(company, member, '+431234567', 120)
    const memberPage = (await client.get('/app').loginAs(member)).text()
    assert.match(memberPage, /id="spend-panel">[\s\S]*?Ihre Gespräche heute[\s\S]*?0,40\s€/)
    assert.match(memberPage, /data-figure="ownMonth">0,40\s€</)
    assert.notInclude(
      memberPage,
      'companyMonth',
      'a member without billing.view sees only their own'
    )
    const ownerPage = (
      await client.get('/app').header('Accept-Language', 'en').loginAs(owner)
    ).text()
    assert.match(ownerPage, /data-figure="ownMonth">€0\.00</)
    assert.match(
      ownerPage,
      /data-figure="companyMonth" class="words">€0\.40 of the €50\.00 monthly limit</
    )
    assert.include(ownerPage, 'href="/app/spend"')
  })

  test('a destination above the maximum price per minute is refused; a cheaper one passes', async ({
    assert,
  }) => {
    const { company, member } = await scene({ maxPricePerMinuteMicro: 100_000 })
    const gates = await app.container.make('calls.gates')
    assert.deepInclude(await gates.check(attempt(company, member, '+431234567')), {
      allow: false,
      reason: 'price_above_maximum',
      phrase: 'Destination too expensive',
    })
    assert.deepEqual(await gates.check(attempt(company, member, '+4930123456')), {
      allow: true,
      maxDurationSeconds: fraudConfig.maxDurationSeconds!,
    })
  })

  test('staff set the money limits on the company page (euro, audited) and the gate applies them', async ({
    client,
    assert,
  }) => {
    const { company, member } = await scene()
    const analyst = await makeUser('fraud_analyst')
    await enableTwoFactor(analyst)
    const page = await client
      .get(`/admin/fraud/companies/${company.id}`)
      .header('Accept-Language', 'en')
      .loginAs(analyst)
    assert.include(page.text(), 'Highest price per minute (€)')
    await client
      .put(`/admin/fraud/companies/${company.id}`)
      .form({
        time_zone: 'America/New_York',
        allowed_countries: 'DE, AT',
        outbound_suspension: 'none',
        max_price_per_minute_euro: '0.1',
        daily_cap_euro: '25.50',
      })
      .withCsrfToken()
      .loginAs(analyst)
    const policy = await FraudCompanyPolicy.findByOrFail('companyId', company.id)
    assert.deepEqual(policy.limits.spend, {
      maxPricePerMinuteMicro: 100_000,
      dailyCapMicro: 25_500_000,
      monthlyCapMicro: null,
    })
    await company.refresh()
    assert.equal(company.timeZone, 'America/New_York')
    const audited = await AuditEntry.query()
      .where('company_id', company.id)
      .whereIn('action', ['fraud.policy.changed', 'company.time_zone.changed'])
    assert.sameMembers(
      audited.map((entry) => entry.action),
      ['fraud.policy.changed', 'company.time_zone.changed']
    )
    assert.equal(
      (await (await app.container.make('fraud.policies')).company(company)).timeZone,
      'America/New_York',
      'daily limits reset at New York midnight'
    )
    const gates = await app.container.make('calls.gates')
    assert.deepInclude(await gates.check(attempt(company, member, '+431234567')), {
      allow: false,
      reason: 'price_above_maximum',
    })
    assert.isTrue((await gates.check(attempt(company, member, '+4930123456'))).allow)
  })

  test('the daily cap: a call may run as long as the budget left lasts, at the cap calls are refused', async ({
    assert,
  }) => {
    // cap 1.00 €; one call of 2 minutes to Vienna costs 0.40 €, 0.60 € are left: 3 minutes at Vienna's price
    const { company, member } = await scene({ dailyCapMicro: 1_000_000 })
    await answeredCall(company, member, '+431234567', 120)
    const gates = await app.container.make('calls.gates')
    const vienna = attempt(company, member, '+431234567')
    assert.deepEqual(await gates.check(vienna), {
      allow: true,
      maxDurationSeconds: 180,
      durationCause: 'spend_cap',
    })
    await (await app.container.make('fraud.leases')).release(vienna.callUuid)
    ;(await app.container.make('fraud.spend')).ended(vienna.callUuid)

    await answeredCall(company, member, '+431234567', 180)
    assert.deepInclude(await gates.check(attempt(company, member, '+4930123456')), {
      allow: false,
      reason: 'daily_spend_cap',
      phrase: 'Spend limit reached',
    })
  })

  test('the counters are rebuilt from the rated CDRs of this month; a live counter is left alone', async ({
    assert,
  }) => {
    const { company, member } = await scene()
    await answeredCall(company, member, '+431234567', 60)
    await answeredCall(company, member, '+4930123456', 60)
    const fresh = new SpendCounters(new MemoryCounterStore())
    await fresh.rebuild(() => 'Europe/Berlin')
    assert.deepEqual(await fresh.spent(`company:${company.id}`, 'Europe/Berlin'), {
      day: VIENNA + BERLIN,
      month: VIENNA + BERLIN,
    })
    assert.deepEqual(await fresh.spent(`user:${member.id}`, 'Europe/Berlin'), {
      day: VIENNA + BERLIN,
      month: VIENNA + BERLIN,
    })

    const live = new MemoryCounterStore()
    const running = new SpendCounters(live)
    await live.increment(
      running.keys(`company:${company.id}`, 'Europe/Berlin', Date.now()).month,
      3600,
      7
    )
    await running.rebuild(() => 'Europe/Berlin')
    assert.equal((await running.spent(`company:${company.id}`, 'Europe/Berlin')).month, 7)
  })
  test('running calls: two calls together reach the cap sooner; the watch ends both then (FakeClock), not before', async ({
    assert,
    cleanup,
  }) => {
    // cap 1.00 €, Vienna at 0.20 €/min: either call alone could run 5 minutes (its admission budget)
    const { company, member, owner } = await scene({ dailyCapMicro: 1_000_000 })
    const start = Date.parse('2026-12-01T09:00:00Z')
    const clock = new FakeClock(start)
    const spend = new SpendCounters(new MemoryCounterStore(), () => clock.now())
    const ends: Array<{ uuid: string; ms: number; at: number }> = []
    const calls = {
      endCallWithin(uuid: string, ms: number) {
        ends.push({ uuid, ms, at: clock.now() })
        return true
      },
    }
    const watch = new SpendWatch(
      spend,
      await app.container.make('fraud.policies'),
      (id) => CompanyModel.find(id),
      () => calls,
      5,
      () => clock.now()
    )
    const stop = watch.start(clock)
    cleanup(stop)
    spend.running('a', { companyId: company.id, userId: member.id, pricePerMinuteMicro: VIENNA })
    clock.advance(60_000)
    spend.running('b', { companyId: company.id, userId: owner.id, pricePerMinuteMicro: VIENNA })
    // From 1:00 both burn 0.40 €/min: the 0.80 € left last 2 minutes, the cap is reached at 3:00
    const settle = async (ms: number) => {
      for (let passed = 0; passed < ms; passed += 5000) {
        clock.advance(5000)
        await watch.lastCheck
      }
    }
    await settle(105_000) // 2:45: 15 s left, beyond the horizon of two checks
    assert.deepEqual(ends, [])
    await settle(5000) // 2:50
    assert.sameMembers(
      ends.map((end) => end.uuid),
      ['a', 'b']
    )
    for (const end of ends) {
      // both end at 3:00, when 1.00 € is spent (the accrual rounds up to the micro-unit)
      assert.closeTo(end.at + end.ms, start + 180_000, 2)
    }
    stop()
  })

  test('running calls: start() again moves the watch to the new clock, stop() ends it, even with a check under way', async ({
    assert,
  }) => {
    const { company, member } = await scene({ dailyCapMicro: 1_000_000 })
    const first = new FakeClock(Date.parse('2026-12-01T09:00:00Z'))
    const second = new FakeClock(first.now())
    const spend = new SpendCounters(new MemoryCounterStore(), () => first.now())
    spend.running('a', { companyId: company.id, userId: member.id, pricePerMinuteMicro: VIENNA })
    let checks = 0
    let release = () => {}
    let held: Promise<void> | undefined
    const watch = new SpendWatch(
      spend,
      await app.container.make('fraud.policies'),
      async (id) => {
        checks++
        await held
        return CompanyModel.find(id)
      },
      () => ({ endCallWithin: () => true }),
      5,
      () => first.now()
    )
    watch.start(first)
    first.advance(5000)
    await watch.lastCheck
    assert.equal(checks, 1)
    watch.start(second)
    first.advance(60_000)
    await watch.lastCheck
    assert.equal(checks, 1, 'the first clock drives no check any more')
    second.advance(5000)
    await watch.lastCheck
    assert.equal(checks, 2)
    // Stopped while a check waits: that check schedules no next one
    held = new Promise((resolve) => (release = resolve))
    second.advance(5000)
    assert.equal(checks, 3)
    watch.stop()
    release()
    await watch.lastCheck
    second.advance(60_000)
    await watch.lastCheck
    assert.equal(checks, 3, 'no check after stop()')
  })

  test('running calls: a cap already reached (a rated call pushed it over) ends them at once', async ({
    assert,
  }) => {
    const { company, member } = await scene({ dailyCapMicro: 1_000_000 })
    const spend = await app.container.make('fraud.spend')
    spend.running('c', { companyId: company.id, userId: member.id, pricePerMinuteMicro: BERLIN })
    const ended: Array<[string, number]> = []
    const watch = new SpendWatch(
      spend,
      await app.container.make('fraud.policies'),
      (id) => CompanyModel.find(id),
      () => ({ endCallWithin: (uuid: string, ms: number) => ended.push([uuid, ms]) > 0 }),
      5
    )
    assert.deepEqual([...(await watch.check(company.id))], [], '1.00 € left at 0.02 €/min')
    await answeredCall(company, member, '+431234567', 300) // 1.00 € rated
    assert.deepEqual([...(await watch.check(company.id))], [['c', 0]])
    assert.deepEqual(ended, [['c', 0]])
  })

  test('caps per user: set by the company admins (audited), refused with their own phrase, shown on /app/spend', async ({
    client,
    assert,
  }) => {
    const { company, owner, member } = await scene()
    const other = await makeUser('member', await makeCompany('active'))
    const refused = await client
      .put(`/app/spend/users/${owner.id}`)
      .form({ daily_cap_euro: '1' })
      .withCsrfToken()
      .loginAs(member)
    refused.assertStatus(403)
    const foreign = await client
      .put(`/app/spend/users/${other.id}`)
      .form({ daily_cap_euro: '1' })
      .withCsrfToken()
      .loginAs(owner)
    foreign.assertStatus(404)
    await client
      .put(`/app/spend/users/${member.id}`)
      .form({ daily_cap_euro: '0.30', monthly_cap_euro: '' })
      .withCsrfToken()
      .loginAs(owner)
    const row = await FraudUserPolicy.findByOrFail('userId', member.id)
    assert.equal(row.dailyCapMicro, 300_000)
    assert.isNull(row.monthlyCapMicro)
    assert.equal(row.outboundSuspension, 'none')
    const audit = await AuditEntry.query()
      .where('company_id', company.id)
      .where('action', 'fraud.user_caps.changed')
      .firstOrFail()
    assert.deepInclude(audit.details as object, {
      after: { daily: 300_000, monthly: null },
    })

    // 0.30 € a day at Vienna's 0.20 €/min: 90 s for the member; the owner has no cap of their own
    const gates = await app.container.make('calls.gates')
    assert.deepEqual(await gates.check(attempt(company, member, '+431234567')), {
      allow: true,
      maxDurationSeconds: 90,
      durationCause: 'spend_cap',
    })
    ;(await app.container.make('fraud.spend')).forgetAll()
    await answeredCall(company, member, '+431234567', 90)
    assert.deepInclude(await gates.check(attempt(company, member, '+4930123456')), {
      allow: false,
      reason: 'user_daily_spend_cap',
      phrase: 'Personal spend limit reached',
    })
    assert.isTrue((await gates.check(attempt(company, owner, '+431234567'))).allow)

    const own = await client.get('/app/spend').header('Accept-Language', 'en').loginAs(member)
    assert.include(own.text(), 'Your own limits')
    assert.notInclude(own.text(), 'Limits per person', 'members do not see the others')
    const admin = await client.get('/app/spend').header('Accept-Language', 'en').loginAs(owner)
    assert.include(admin.text(), 'Limits per person')
    assert.match(admin.text(), new RegExp(`data-user="${member.id}"[\\s\\S]*?value="0.3"`))
  })

  test("caps per user over running calls: only that user's calls end when their cap is reached", async ({
    assert,
  }) => {
    const { company, owner, member } = await scene()
    await FraudUserPolicy.create({
      userId: member.id,
      outboundSuspension: 'none',
      dailyCapMicro: 200_000,
      monthlyCapMicro: null,
    })
    let now = Date.parse('2026-12-01T09:00:00Z')
    const spend = new SpendCounters(new MemoryCounterStore(), () => now)
    const ended = new Map<string, number>()
    const watch = new SpendWatch(
      spend,
      await app.container.make('fraud.policies'),
      (id) => CompanyModel.find(id),
      () => ({ endCallWithin: (uuid: string, ms: number) => ended.set(uuid, ms).size > 0 }),
      5,
      () => now
    )
    spend.running('m1', { companyId: company.id, userId: member.id, pricePerMinuteMicro: VIENNA })
    spend.running('m2', { companyId: company.id, userId: member.id, pricePerMinuteMicro: VIENNA })
    spend.running('o1', { companyId: company.id, userId: owner.id, pricePerMinuteMicro: VIENNA })
    now += 24_000 // 0.16 € of the member's 0.20 € used: 0.04 € left at 0.40 €/min = 6 s
    await watch.check(company.id)
    assert.deepEqual(
      [...ended],
      [
        ['m1', 6000],
        ['m2', 6000],
      ]
    )
  })
})

test.group('Fraud spend: rules', () => {
  test('day and month keys turn at midnight in the company time zone', ({ assert }) => {
    const spend = new SpendCounters(new MemoryCounterStore())
    const lateNovemberUtc = DateTime.fromISO('2026-11-30T23:30:00Z').toMillis()
    assert.deepEqual(spend.keys('company:1', 'Europe/Berlin', lateNovemberUtc), {
      day: 'spend:d:company:1:2026-12-01',
      month: 'spend:m:company:1:2026-12',
    })
    assert.deepEqual(spend.keys('company:1', 'UTC', lateNovemberUtc), {
      day: 'spend:d:company:1:2026-11-30',
      month: 'spend:m:company:1:2026-11',
    })
  })

  test('calls in progress accrue their cost (injected clock)', ({ assert }) => {
    let now = 1_000_000
    const spend = new SpendCounters(new MemoryCounterStore(), () => now)
    spend.running('a', { companyId: 1, userId: 1, pricePerMinuteMicro: VIENNA })
    spend.running('b', { companyId: 2, userId: 2, pricePerMinuteMicro: VIENNA })
    now += 90_000
    assert.equal(spend.accrued(1), 300_000, 'a minute and a half at 0.20 €')
    spend.ended('a')
    assert.equal(spend.accrued(1), 0)
  })
})
