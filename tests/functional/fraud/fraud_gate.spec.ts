import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import emitter from '@adonisjs/core/services/emitter'
import testUtils from '@adonisjs/core/services/test_utils'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import type { CallAttempt } from '#calls/gates/call_gate'
import CallRecord from '#calls/models/call_record'
import CallSweeper, { type SweptNode } from '#calls/b2bua/call_sweeper'
import CdrService from '#calls/b2bua/cdr_service'
import FraudCompanyPolicy from '#fraud/models/fraud_company_policy'
import FraudUserPolicy from '#fraud/models/fraud_user_policy'
import FraudLimiter from '#fraud/services/fraud_limiter'
import RedisCallLeases from '#fraud/services/redis_call_leases'
import fraudConfig from '#config/fraud'
import { sqlTime } from '#core/sql_time'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { resetCounters } from '#tests/support/counters'
import { redisConfigured } from '#tests/support/redis'

/**
 * The fraud decision in the call path: the container's call gates (what the B2BUA runs) refuse by
 * the company's policy, and concurrent-call leases are released by call:ended and rebuilt from
 * the lease table (without Redis) or kept in Redis alone.
 */
function attempt(
  company: Company,
  user: User,
  destination: string,
  deviceId: number | null = null
): CallAttempt {
  return {
    company,
    user,
    destination,
    carrierNames: ['first'],
    callUuid: randomUUID(),
    deviceId,
    sourceAddress: '127.0.0.2',
    kind: 'direct',
    pricePerMinuteCents: null,
  }
}

async function policyFor(company: Company, values: Partial<FraudCompanyPolicy>) {
  await FraudCompanyPolicy.create({
    companyId: company.id,
    allowedCountries: fraudConfig.allowedCountries,
    enabledRiskClasses: [],
    outboundSuspension: 'none',
    limits: {},
    ...values,
  })
  ;(await app.container.make('fraud.policies')).forgetCompany(company.id)
}

/** The attempt's CDR, ended unless told otherwise. */
function cdrOf(call: CallAttempt, values: Partial<CallRecord> = {}) {
  return CallRecord.create({
    uuid: call.callUuid,
    companyId: call.company.id,
    userId: call.user.id,
    direction: 'outbound',
    emergency: false,
    callerNumber: null,
    calleeNumber: call.destination,
    callerWithheld: false,
    region: 'eu',
    nodeId: 'fraud-test',
    startedAt: DateTime.utc(),
    endedAt: DateTime.utc(),
    ...values,
  } as Partial<CallRecord>)
}

/** A CDR for the attempt, ended: what the B2BUA emits when the call is over. */
async function endCall(call: CallAttempt) {
  await emitter.emit('call:ended', { record: await cdrOf(call) })
}

test.group('Fraud gate in the call path', (group) => {
  group.each.setup(async () => {
    // Rolled-back ids come again (SQLite): counts of an earlier test must not carry over.
    await resetCounters()
    ;(await app.container.make('fraud.policies')).forgetAll()
    return testUtils.db().withGlobalTransaction()
  })
  group.each.teardown(async () => (await app.container.make('fraud.leases')).written())

  test('the call gates refuse a German 0900 number with 403 and its reason', async ({ assert }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    const gates = await app.container.make('calls.gates')
    const decision = await gates.check(attempt(company, user, '+499001234567'))
    assert.deepInclude(decision, {
      allow: false,
      reason: 'risk_class_premium_rate',
      status: 403,
      phrase: 'Destination blocked: premium_rate',
      gate: 'fraud',
    })
  })

  test('{self} is refused for a new company')
    .with([
      {
        self: '+882 (international networks)',
        number: '+882123456789',
        reason: 'risk_class_high_risk',
      },
      { self: '+881 (satellite)', number: '+881612345678', reason: 'risk_class_high_risk' },
      { self: 'Sierra Leone', number: '+23276123456', reason: 'risk_class_high_risk' },
      { self: 'Cuba', number: '+5351234567', reason: 'risk_class_high_risk' },
      { self: 'Vanuatu', number: '+6785512345', reason: 'risk_class_high_risk' },
      { self: 'German 118xx', number: '+4911833', reason: 'risk_class_special_service' },
      {
        self: 'a US number (country not allowed)',
        number: '+12125550100',
        reason: 'country_not_allowed',
      },
    ])
    .run(async ({ assert }, row) => {
      const company = await makeCompany('active')
      const user = await makeUser('member', company)
      const decision = await (
        await app.container.make('calls.gates')
      ).check(attempt(company, user, row.number))
      assert.isFalse(decision.allow)
      assert.equal(!decision.allow && decision.reason, row.reason)
    })

  test('a Berlin number passes and carries the maximum duration', async ({ assert }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    const decision = await (
      await app.container.make('calls.gates')
    ).check(attempt(company, user, '+4930123456'))
    assert.deepEqual(decision, { allow: true, maxDurationSeconds: fraudConfig.maxDurationSeconds! })
  })

  test('staff widen a company: premium rate enabled, the US allowed, a shorter maximum duration', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    await policyFor(company, {
      allowedCountries: ['DE', 'US'],
      enabledRiskClasses: ['premium_rate'],
      limits: { maxDurationSeconds: 60 },
    })
    const gates = await app.container.make('calls.gates')
    assert.deepEqual(await gates.check(attempt(company, user, '+499001234567')), {
      allow: true,
      maxDurationSeconds: 60,
    })
    assert.isTrue((await gates.check(attempt(company, user, '+12125550100'))).allow)
    assert.isFalse(
      (await gates.check(attempt(company, user, '+431234567'))).allow,
      'Austria is no longer in the list'
    )
  })

  test('a company suspended for international and premium calls still calls Germany; a suspended user nothing', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    const other = await makeUser('member', company)
    await policyFor(company, { outboundSuspension: 'international_premium' })
    const gates = await app.container.make('calls.gates')
    assert.isTrue((await gates.check(attempt(company, user, '+4930123456'))).allow)
    assert.deepInclude(await gates.check(attempt(company, user, '+431234567')), {
      allow: false,
      phrase: 'Outbound calls suspended',
    })

    await FraudUserPolicy.create({ userId: other.id, outboundSuspension: 'all' })
    ;(await app.container.make('fraud.policies')).forgetUser(other.id)
    assert.deepInclude(await gates.check(attempt(company, other, '+4930123456')), {
      allow: false,
      reason: 'outbound_suspended',
    })
  })

  test('a device at its concurrent-call limit is refused until call:ended releases a lease', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    await policyFor(company, { limits: { device: { concurrent: 2 } } })
    const gates = await app.container.make('calls.gates')
    const calls = [1, 2, 3].map((n) => attempt(company, user, `+49304000${n}0`, 4242))
    assert.isTrue((await gates.check(calls[0])).allow)
    assert.isTrue((await gates.check(calls[1])).allow)
    assert.deepInclude(await gates.check(calls[2]), {
      allow: false,
      reason: 'concurrent_limit',
      phrase: 'Too many concurrent calls',
    })

    await endCall(calls[0])
    assert.isTrue((await gates.check(attempt(company, user, '+4930400040', 4242))).allow)
    const leases = await app.container.make('fraud.leases')
    assert.equal(await leases.held('device:4242'), 2)
    assert.equal(await leases.held(`company:${company.id}`), 2)
    if (leases.kind === 'redis') return
    const rows = await db.from('fraud_call_leases').where('sip_device_id', 4242).select('call_uuid')
    assert.notInclude(
      rows.map((row) => row.call_uuid),
      calls[0].callUuid
    )
    assert.lengthOf(rows, 2)
  })

  test('with Redis a lease lives there alone and is released by call:ended on any node', async ({
    assert,
  }) => {
    const leases = await app.container.make('fraud.leases')
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    await policyFor(company, { limits: { company: { concurrent: 1 } } })
    const gates = await app.container.make('calls.gates')
    const call = attempt(company, user, '+4930123456', 77)
    assert.isTrue((await gates.check(call)).allow)
    assert.isNull(await db.from('fraud_call_leases').where('call_uuid', call.callUuid).first())
    assert.include(await gates.check(attempt(company, user, '+4930123457')), {
      reason: 'concurrent_limit',
    })
    // Another node (its own store on the same Redis) sees call:ended: the place is free again,
    // on every subject; a repeated release frees nothing more.
    const redis = (await app.container.make('redis')).connection('main').ioConnection
    const otherNode = new RedisCallLeases(redis, { leaseSeconds: fraudConfig.leaseSeconds })
    await otherNode.release(call.callUuid)
    await endCall(call)
    for (const subject of [`company:${company.id}`, `user:${user.id}`, 'device:77'])
      assert.equal(await leases.held(subject), 0, subject)
    const next = attempt(company, user, '+4930123458')
    assert.isTrue((await gates.check(next)).allow)
    await otherNode.release(call.callUuid)
    assert.equal(await leases.held(`company:${company.id}`), 1)
    await endCall(next)
  }).skip(!redisConfigured, 'Redis only (REDIS_HOST)')

  test("a silent node's calls: the sweeper of another node ends them and their leases go", async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    await policyFor(company, { limits: { company: { concurrent: 1 } } })
    const gates = await app.container.make('calls.gates')
    const leases = await app.container.make('fraud.leases')
    // The lost node admitted a call and died mid-call: its CDR open, its lease held.
    const call = attempt(company, user, '+4930123456')
    assert.isTrue((await gates.check(call)).allow)
    await leases.written()
    await cdrOf(call, {
      nodeId: 'fraud-lost-node',
      startedAt: DateTime.utc().minus({ minutes: 20 }),
      endedAt: null,
    })
    await db.table('call_nodes').insert({
      node_id: 'fraud-lost-node',
      last_seen_at: sqlTime(DateTime.utc().minus({ minutes: 10 })),
    })
    assert.include(await gates.check(attempt(company, user, '+4930123457')), {
      reason: 'concurrent_limit',
    })

    // Another node's sweeper ends its calls as the B2BUA does (endCallsOfNode: CDR closed, call:ended).
    const cdr = new CdrService()
    const node: SweptNode = {
      isLive: () => false,
      async endCallsOfNode(nodeId) {
        const open = await CallRecord.query().whereNull('ended_at').where('node_id', nodeId)
        for (const record of open)
          await cdr.end(record, { cause: 'node_lost', sipStatus: null, hungUpBy: 'system' })
        return open.length
      },
    }
    const sweeper = new CallSweeper(node, cdr, {
      nodeId: 'fraud-sweeping-node',
      nodeLostAfterSeconds: 300,
      setupGraceSeconds: 120,
    })
    assert.deepEqual((await sweeper.sweep()).lostNodes, ['fraud-lost-node'])
    for (let tries = 0; tries < 100 && (await leases.held(`company:${company.id}`)) > 0; tries++)
      await new Promise((resolve) => setImmediate(resolve))
    assert.equal(await leases.held(`company:${company.id}`), 0)
    assert.isTrue((await gates.check(attempt(company, user, '+4930123458'))).allow)
  })

  test('with Redis a lease whose call:ended never comes stops counting after leaseSeconds', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const redis = (await app.container.make('redis')).connection('main').ioConnection
    let now = Date.now()
    const store = new RedisCallLeases(redis, { leaseSeconds: 60, now: () => now })
    const take = (callUuid: string) =>
      store.take(callUuid, {
        checks: [],
        leases: [{ subject: `company:${company.id}`, limit: 2 }],
        counts: [],
      })
    assert.isTrue((await take(randomUUID())).taken)
    now += 30_000
    assert.isTrue((await take(randomUUID())).taken)
    assert.deepInclude(await take(randomUUID()), { taken: false, refused: { lease: 0 } })
    // The first is 60 s old: a crashed node's lease nobody released.
    now += 30_000
    assert.equal(await store.held(`company:${company.id}`), 1)
    assert.isTrue((await take(randomUUID())).taken)
    assert.deepInclude(await take(randomUUID()), { taken: false, refused: { lease: 0 } })
  }).skip(!redisConfigured, 'Redis only (REDIS_HOST)')

  test('with Redis the lease table’s leftover rows go once they are as old as a lease', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const redis = (await app.container.make('redis')).connection('main').ioConnection
    const now = Date.now()
    const store = new RedisCallLeases(redis, { leaseSeconds: 60, now: () => now })
    const row = (callUuid: string, ageSeconds: number) => ({
      call_uuid: callUuid,
      company_id: company.id,
      user_id: null,
      sip_device_id: null,
      created_at: sqlTime(DateTime.fromMillis(now - ageSeconds * 1000, { zone: 'utc' })),
    })
    const [old, young] = [randomUUID(), randomUUID()]
    await db.table('fraud_call_leases').multiInsert([row(old, 61), row(young, 30)])
    await store.rebuild(60)
    const left = await db.from('fraud_call_leases').whereIn('call_uuid', [old, young])
    assert.deepEqual(
      left.map((entry) => entry.call_uuid),
      [young]
    )
  }).skip(!redisConfigured, 'Redis only (REDIS_HOST)')

  test('a lease taken on another node is released through its row', async ({ assert }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    const counters = await app.container.make('counters')
    const callUuid = randomUUID()
    await db.table('fraud_call_leases').insert({
      call_uuid: callUuid,
      company_id: company.id,
      user_id: user.id,
      sip_device_id: null,
      created_at: sqlTime(DateTime.utc()),
    })
    await counters.increment(FraudLimiter.leaseKey(`company:${company.id}`), 3600)
    await endCall({ ...attempt(company, user, '+4930123456'), callUuid })
    assert.equal(await counters.get(FraudLimiter.leaseKey(`company:${company.id}`)), 0)
    assert.isNull(await db.from('fraud_call_leases').where('call_uuid', callUuid).first())
  }).skip(redisConfigured, 'the lease table: without Redis only')

  test('the rebuild sets the concurrent-call counters to the running calls (a crashed node blocks nobody)', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    const counters = await app.container.make('counters')
    const leases = await app.container.make('fraud.leases')
    const key = FraudLimiter.leaseKey(`company:${company.id}`)
    // A crashed node's counter says 5; one of its calls still runs.
    await counters.increment(key, 3600, 5)
    await db.table('fraud_call_leases').insert({
      call_uuid: randomUUID(),
      company_id: company.id,
      user_id: user.id,
      sip_device_id: 7,
      created_at: sqlTime(DateTime.utc()),
    })
    await leases.rebuild(fraudConfig.leaseSeconds)
    assert.equal(await counters.get(key), 1)
    assert.equal(await counters.get(FraudLimiter.leaseKey('device:7')), 1)
    await db.from('fraud_call_leases').where('company_id', company.id).delete()
    await leases.rebuild(fraudConfig.leaseSeconds)
    assert.equal(await counters.get(key), 0)
  }).skip(redisConfigured, 'the lease table: without Redis only')
})
