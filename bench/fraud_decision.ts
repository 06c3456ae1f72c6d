/*
 * The fraud decision's latency in the call path (app/fraud/gates/fraud_gate.ts, the target:
 * p99 < 1 ms): the destination rules on cached policies, the number classification and the
 * counting limits (spend caps, rates and concurrent-call leases) in one atomic step on the counter
 * store (CounterStore.take: one EVALSHA in Redis), with counters in memory
 * and in Redis (127.0.0.1:6379, REDIS_HOST/REDIS_PORT). Policies come from the gate's cache, so
 * no database is involved: FraudPolicies answers a warm company from a Map, which is what this
 * process serves between reloads; the lease rows are written after the decision, off the call path.
 * Per store: 5 runs of DECISIONS decisions (1,000 companies, 5,000 users, 5,000 destinations in
 * Germany and the low-risk countries, some refused); each decision timed on its own with
 * process.hrtime; per run p50 and p99; medians of the runs printed as JSON.
 *
 *   node --import @poppinss/ts-exec bench/fraud_decision.ts [--decisions 20000] [--stores memory,redis]
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import MemoryCounterStore from '#core/counters/memory_counter_store'
import RedisCounterStore from '#core/counters/redis_counter_store'
import type { CounterStore } from '#core/counters/types'
import fraudConfig from '#config/fraud'
import { SEEDED_RISK_PREFIXES } from '#database/migrations/0500_create_fraud_tables'
import FraudGate from '#fraud/gates/fraud_gate'
import FraudLimiter from '#fraud/services/fraud_limiter'
import FraudPolicies from '#fraud/services/fraud_policies'
import NumberRisk from '#fraud/services/number_risk'
import type CallLeases from '#fraud/services/call_leases'
import type { CallAttempt } from '#calls/gates/call_gate'
import { option } from './support/options.ts'

const DECISIONS = Number(option('decisions', '20000'))
const STORES = option('stores', 'memory,redis').split(',')
const RUNS = 5

function percentile(values: number[], p: number) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}
const median = (values: number[]) => percentile(values, 0.5)

const NO_USER_LIMITS = {
  suspension: 'none' as const,
  spend: { dailyCapMicro: null, monthlyCapMicro: null },
}

/** The gate's policies with every company and user warm (what the cache serves between reloads). */
function warmPolicies() {
  const real = new FraudPolicies(fraudConfig)
  const risk = new NumberRisk(SEEDED_RISK_PREFIXES)
  const companies = new Map<number, ReturnType<FraudPolicies['effective']>>()
  return {
    async company(company: { id: number; country: string }) {
      let policy = companies.get(company.id)
      if (!policy) companies.set(company.id, (policy = real.effective(company, null)))
      return policy
    },
    async user() {
      return NO_USER_LIMITS
    },
    async numberRisk() {
      return risk
    },
  } as unknown as FraudPolicies
}

const DESTINATIONS = Array.from({ length: 5000 }, (_, index) => {
  if (index % 50 === 0) return `+49900${String(1_000_000 + index)}` // premium: refused
  if (index % 7 === 0) return `+43${String(100_000_000 + index)}` // Austria
  return `+4930${String(10_000_000 + index)}`
})

async function run(counters: CounterStore) {
  const limiter = new FraudLimiter(counters, { leaseSeconds: fraudConfig.leaseSeconds })
  const leases = { taken() {} } as unknown as CallLeases
  const gate = new FraudGate(fraudConfig, warmPolicies(), limiter, leases)
  const attempts: CallAttempt[] = Array.from({ length: DECISIONS }, (_, index) => {
    const companyId = 1 + (index % 1000)
    const userId = companyId * 5 + (Math.floor(index / 1000) % 5)
    return {
      company: { id: companyId, country: 'DE' },
      user: { id: userId },
      destination: DESTINATIONS[index % DESTINATIONS.length],
      carrierNames: ['bench'],
      callUuid: randomUUID(),
      deviceId: index % 3 === 0 ? null : userId,
      sourceAddress: '192.0.2.10',
      kind: 'direct',
      pricePerMinuteCents: null,
    } as unknown as CallAttempt
  })
  // Warm-up: number classifications cached, code optimised.
  for (const attempt of attempts.slice(0, 2000))
    await gate.check({ ...attempt, callUuid: randomUUID() })
  const p50: number[] = []
  const p99: number[] = []
  let refused = 0
  for (let runIndex = 0; runIndex < RUNS; runIndex++) {
    // Each run on fresh subjects, so rate limits do not fill up across runs.
    const offset = (runIndex + 1) * 100_000
    const latencies: number[] = []
    for (const attempt of attempts) {
      const shifted = {
        ...attempt,
        company: { id: offset + attempt.company.id, country: 'DE' },
        user: { id: offset * 5 + attempt.user.id },
        deviceId: attempt.deviceId === null ? null : offset * 5 + attempt.deviceId,
      } as unknown as CallAttempt
      const start = process.hrtime.bigint()
      const decision = await gate.check(shifted)
      latencies.push(Number(process.hrtime.bigint() - start) / 1000)
      if (!decision.allow) refused++
      // The call ends at once: its leases go (what call:ended does).
      else {
        const subjects = [`company:${shifted.company.id}`, `user:${shifted.user.id}`]
        if (shifted.deviceId !== null) subjects.push(`device:${shifted.deviceId}`)
        await limiter.release(subjects.map((subject) => FraudLimiter.leaseKey(subject)))
      }
    }
    p50.push(percentile(latencies, 0.5))
    p99.push(percentile(latencies, 0.99))
  }
  return {
    p50Us: Math.round(median(p50)),
    p99Us: Math.round(median(p99)),
    refusedPerRun: Math.round(refused / RUNS),
  }
}

const results: Record<string, unknown> = {
  decisionsPerRun: DECISIONS,
  runs: RUNS,
  node: process.version,
}
for (const store of STORES) {
  if (store === 'memory') {
    results.memory = await run(new MemoryCounterStore())
  } else if (store === 'redis') {
    const redis = new Redis({
      host: process.env.REDIS_HOST ?? '127.0.0.1',
      port: Number(process.env.REDIS_PORT ?? 6379),
      lazyConnect: true,
    })
    await redis.connect().catch((error) => {
      throw new Error(
        `Redis is not reachable (${error.message}); start it or run with --stores memory`
      )
    })
    const prefix = `fraud-bench-${process.pid}:`
    results.redis = await run(new RedisCounterStore(redis, prefix))
    const keys = await redis.keys(`${prefix}*`)
    for (let index = 0; index < keys.length; index += 500)
      await redis.del(...keys.slice(index, index + 500))
    redis.disconnect()
  }
}
console.log(JSON.stringify(results, null, 2))
