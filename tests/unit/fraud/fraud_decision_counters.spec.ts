import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import type { Redis } from 'ioredis'
import type { CounterStore, CounterTake } from '#core/counters/types'
import MemoryCounterStore from '#core/counters/memory_counter_store'
import RedisCounterStore from '#core/counters/redis_counter_store'
import fraudConfig from '#config/fraud'
import type { FraudLimits } from '#config/fraud'
import type { CallAttempt } from '#calls/gates/call_gate'
import { SEEDED_RISK_PREFIXES } from '#database/migrations/0500_create_fraud_tables'
import FraudGate from '#fraud/gates/fraud_gate'
import FraudLimiter from '#fraud/services/fraud_limiter'
import FraudPolicies from '#fraud/services/fraud_policies'
import NumberRisk from '#fraud/services/number_risk'
import SpendCounters from '#fraud/services/spend_counters'
import type { ConcurrentCallLeases } from '#fraud/services/call_leases'
import RedisCallLeases, { type LeaseTake } from '#fraud/services/redis_call_leases'
import type DestinationPrices from '#fraud/services/destination_prices'
import { connectRedis, deleteKeys, redisConfigured } from '#tests/support/redis'

/**
 * The whole fraud decision (FraudGate) on each counter store: the spend caps, rates and leases it
 * needs are checked and taken in one atomic step (one Redis round trip), so decisions at once
 * admit exactly the limit and a refused decision leaves every counter as it was.
 */

const risk = new NumberRisk(SEEDED_RISK_PREFIXES)
const real = new FraudPolicies(fraudConfig)
const roomy: FraudLimits = { concurrent: 100, perMinute: 100, perHour: 100, perDay: 100 }
const PRICE = 100_000 // 10 ct per minute (1/10,000 cent)

/** Remembers every key a decision handed to the store, to compare their values afterwards. */
class Recording implements CounterStore {
  keys = new Set<string>()
  constructor(private store: CounterStore) {}
  get driver() {
    return this.store.driver
  }
  increment(key: string, windowSeconds: number, by?: number) {
    this.keys.add(key)
    return this.store.increment(key, windowSeconds, by)
  }
  get(key: string) {
    return this.store.get(key)
  }
  getMany(keys: string[]) {
    return this.store.getMany(keys)
  }
  reset(key: string) {
    return this.store.reset(key)
  }
  take(request: CounterTake) {
    for (const entry of [
      ...(request.checks ?? []),
      ...(request.leases ?? []),
      ...(request.counts ?? []),
    ])
      this.keys.add(entry.key)
    return this.store.take(request)
  }
  close() {
    return this.store.close()
  }
}

function decisionsOn(
  store: CounterStore,
  policy: { device?: Partial<FraudLimits>; dailyCapMicro?: number },
  sets: RedisCallLeases | null
) {
  const counters = new Recording(store)
  // The lease sets' checks and counts are counters too: recorded for the snapshot.
  const recordedSets = sets && {
    take(callUuid: string, request: LeaseTake) {
      for (const entry of [...request.checks, ...request.counts]) counters.keys.add(entry.key)
      return sets.take(callUuid, request)
    },
  }
  const limiter = new FraudLimiter(counters, {
    leaseSeconds: 3600,
    leaseSets: (recordedSets ?? undefined) as RedisCallLeases | undefined,
  })
  /** The allowed calls' leases, oldest first (what call:ended would release). */
  const held: Array<{ callUuid: string; keys: string[] }> = []
  const leases = {
    taken(callUuid: string, _lease: unknown, keys: string[]) {
      held.push({ callUuid, keys })
    },
  } as unknown as ConcurrentCallLeases
  const spend = new SpendCounters(counters)
  const policies = {
    async company(company: { id: number; country: string }) {
      const base = real.effective(company, null)
      return {
        ...base,
        limits: {
          company: roomy,
          user: roomy,
          device: { ...roomy, ...policy.device },
        },
        callsToOneNumberPerHour: 100,
        spend: { ...base.spend, dailyCapMicro: policy.dailyCapMicro ?? null },
      }
    },
    async user() {
      return { suspension: 'none', spend: { dailyCapMicro: null, monthlyCapMicro: null } }
    },
    async numberRisk() {
      return risk
    },
  } as unknown as FraudPolicies
  const prices = { perMinuteMicro: async () => PRICE } as unknown as DestinationPrices
  const gate = new FraudGate(fraudConfig, policies, limiter, leases, Date.now, { prices, spend })
  const attempt = (companyId: number, destination = '+4930123456'): CallAttempt =>
    ({
      company: { id: companyId, country: 'DE' },
      user: { id: companyId * 10 },
      destination,
      carrierNames: ['test'],
      callUuid: randomUUID(),
      deviceId: companyId * 100,
      sourceAddress: '192.0.2.10',
      kind: 'direct',
      pricePerMinuteCents: null,
    }) as unknown as CallAttempt
  /** Every key the decisions used so far that counts something, with its value. */
  const snapshot = async () => {
    const values: Record<string, number> = {}
    for (const key of [...counters.keys].sort()) {
      const value = await store.get(key)
      if (value !== 0) values[key] = value
    }
    return values
  }
  /** Running calls of a subject. */
  const running = async (subject: string) =>
    sets ? sets.held(subject) : store.get(FraudLimiter.leaseKey(subject))
  /** The oldest allowed call ends. */
  const endOne = async () => {
    const call = held.shift()!
    await (sets ? sets.release(call.callUuid) : limiter.release(call.keys))
  }
  return { gate, attempt, snapshot, spend, running, endOne }
}

function decisionContract(
  name: string,
  make: () => Promise<CounterStore>,
  setup?: (group: any) => void,
  /** Every key in the store (Redis), to see that a refusal did not create one either. */
  allKeys?: () => Promise<string[]>,
  /** The leases as sets in Redis (RedisCallLeases) instead of counters. */
  makeSets?: () => RedisCallLeases
) {
  const decisions = (
    store: CounterStore,
    policy: { device?: Partial<FraudLimits>; dailyCapMicro?: number }
  ) => decisionsOn(store, policy, makeSets?.() ?? null)
  test.group(`Fraud decision on the counters: ${name}`, (group) => {
    setup?.(group)

    test('20 decisions at once against a device limit of 12 admit exactly 12', async ({
      assert,
    }) => {
      const { gate, attempt, snapshot, running } = decisions(await make(), {
        device: { concurrent: 12 },
      })
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) => gate.check(attempt(7, `+49301234${100 + index}`)))
      )
      const allowed = results.filter((result) => result.allow)
      assert.lengthOf(allowed, 12)
      assert.sameMembers(
        [...new Set(results.filter((result) => !result.allow).map((result) => result.reason))],
        ['concurrent_limit']
      )
      const values = await snapshot()
      assert.equal(await running('device:700'), 12)
      assert.equal(await running('user:70'), 12)
      assert.equal(await running('company:7'), 12)
      // The refused eight counted no rate either.
      const minute = Object.entries(values).filter(([key]) => key.startsWith('fraud:m:device:700'))
      assert.deepEqual(
        minute.map(([, value]) => value),
        [12]
      )
    })

    test('a refused decision leaves every counter as it was', async ({ assert }) => {
      const store = await make()
      const { gate, attempt, snapshot, spend, endOne } = decisions(store, {
        device: { concurrent: 2, perMinute: 3 },
        dailyCapMicro: 1_000_000,
      })
      assert.isTrue((await gate.check(attempt(8, '+4930000001'))).allow)
      assert.isTrue((await gate.check(attempt(8, '+4930000002'))).allow)
      const before = await snapshot()
      const keysBefore = await allKeys?.()
      // Both leases of the device held: the third call is refused...
      assert.include(await gate.check(attempt(8, '+4930000003')), { reason: 'concurrent_limit' })
      assert.deepEqual(await snapshot(), before)
      assert.deepEqual(await allKeys?.(), keysBefore)

      // ...and with a place free again, the per-minute rate (3) refuses the fourth.
      await endOne()
      assert.isTrue((await gate.check(attempt(8, '+4930000004'))).allow)
      await endOne()
      const full = await snapshot()
      const keysFull = await allKeys?.()
      assert.include(await gate.check(attempt(8, '+4930000005')), { reason: 'rate_limit' })
      assert.deepEqual(await snapshot(), full)
      assert.deepEqual(await allKeys?.(), keysFull)

      // A company at its daily spend cap: refused before any rate or lease is taken.
      await spend.add(
        { companyId: 9, userId: 90, costMicro: 1_000_000, startedAt: Date.now() },
        fraudConfig.timeZone
      )
      const capped = await snapshot()
      const keysCapped = await allKeys?.()
      assert.include(await gate.check(attempt(9)), { reason: 'daily_spend_cap' })
      assert.deepEqual(await snapshot(), capped)
      assert.deepEqual(await allKeys?.(), keysCapped)
    })

    test('below the spend cap the call is admitted with the budget as its maximum duration', async ({
      assert,
    }) => {
      const { gate, attempt, spend } = decisions(await make(), { dailyCapMicro: 1_000_000 })
      await spend.add(
        { companyId: 11, userId: 110, costMicro: 400_000, startedAt: Date.now() },
        fraudConfig.timeZone
      )
      // 60 ct of 1 € left at 10 ct per minute: 6 minutes.
      assert.deepEqual(await gate.check(attempt(11)), {
        allow: true,
        maxDurationSeconds: 360,
        durationCause: 'spend_cap',
      })
    })
  })
}

decisionContract('memory', async () => new MemoryCounterStore())

// In Redis (only when REDIS_HOST is set): each store under its own prefix, deleted afterwards.
if (redisConfigured) {
  let redis: Redis
  const prefix = `fluffycall:test:decision:${randomUUID()}:`
  let current = prefix
  const setup = (group: any) => {
    group.setup(async () => {
      redis = await connectRedis()
      return async () => {
        await deleteKeys(redis, prefix)
        await redis.quit()
      }
    })
  }
  const allKeys = async () => {
    const keys: string[] = []
    let cursor = '0'
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${current}*`, 'COUNT', 500)
      keys.push(...found)
      cursor = next
    } while (cursor !== '0')
    return keys.sort()
  }
  const store = async () => new RedisCounterStore(redis, (current = `${prefix}${randomUUID()}:`))
  decisionContract('redis', store, setup, allKeys)
  // What the app runs with Redis: the leases as sets of the calls' ids, the table unused.
  decisionContract(
    'redis, leases as sets',
    store,
    setup,
    allKeys,
    () => new RedisCallLeases(redis, { leaseSeconds: 3600 }, current)
  )
}
