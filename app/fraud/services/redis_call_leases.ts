import type { Redis } from 'ioredis'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { sqlTime } from '#core/sql_time'
import type { CounterTakeResult } from '#core/counters/types'
import { limit, takeResult } from '#core/counters/redis_counter_store'
import type { Lease } from '#fraud/services/call_leases'

/**
 * FraudLimiter.admit's atomic step with the call's leases as members of a sorted set per subject
 * (member: the call's id, score: when it was taken). KEYS: the checks, the lease sets, the counts,
 * then the call's own key. ARGV: the number of checks and of leases, now (ms), the lease's life
 * (ms), the call's id, then each check's limit, each lease's limit, each count's amount and window.
 * A set's members older than the lease's life (a call whose end was never seen) are dropped
 * before it is counted. The call's key keeps the names of its sets (as Redis sees them, with the
 * connection's prefix) for the release. Returns as RedisCounterStore's take: {1, 0, values},
 * {0, i, values} (check i refused), {-1, i, values} (lease i full).
 */
const ADMIT = `
local checks, leases = tonumber(ARGV[1]), tonumber(ARGV[2])
local now, life, member = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local counts = #KEYS - 1 - checks - leases
local values = {}
for i = 1, checks do
  values[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
end
for i = 1, checks do
  if values[i] >= tonumber(ARGV[5 + i]) then return {0, i, values} end
end
local base = 5 + checks
local sets = {}
for i = 1, leases do
  local key = KEYS[checks + i]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - life)
  if redis.call('ZCARD', key) + 1 > tonumber(ARGV[base + i]) then return {-1, i, values} end
  sets[i] = key
end
for i = 1, leases do
  redis.call('ZADD', sets[i], now, member)
  redis.call('PEXPIRE', sets[i], life)
end
redis.call('SET', KEYS[#KEYS], table.concat(sets, ' '), 'PX', life)
base = base + leases
for i = 1, counts do
  local key, by = KEYS[checks + leases + i], tonumber(ARGV[base + 2 * i - 1])
  if redis.call('INCRBY', key, by) == by then redis.call('EXPIRE', key, ARGV[base + 2 * i]) end
end
return {1, 0, values}`

/**
 * The release, once per call whoever runs it: the call's key goes and the call leaves the sets it
 * names. A second release finds no key and does nothing. (The set names come from the call's key,
 * not from KEYS: fine on one Redis server, not on a Redis Cluster.)
 */
const RELEASE = `
local sets = redis.call('GET', KEYS[1])
if not sets then return 0 end
redis.call('DEL', KEYS[1])
for key in string.gmatch(sets, '%S+') do redis.call('ZREM', key, ARGV[1]) end
return 1`

type AdmitCommand = (...args: Array<string | number>) => Promise<[number, number, number[]]>
type ReleaseCommand = (key: string, member: string) => Promise<number>

/** What FraudLimiter.admit takes in one step: its checks and counts are counter keys. */
export interface LeaseTake {
  checks: Array<{ key: string; below: number }>
  leases: Array<{ subject: string; limit: number }>
  counts: Array<{ key: string; windowSeconds: number }>
}

/**
 * The concurrent-call leases in Redis alone (when Redis is configured): no lease table, no
 * counters to rebuild. A subject's running calls are the members of its set, so the limit is exact
 * across nodes; the lease is taken with the rates in one round trip and released with one, by the
 * call's id, on whichever node sees call:ended (a crashed node's calls are ended by its restart or
 * the sweeper of another node, as with the table). A lease whose end is never seen stops counting
 * after `leaseSeconds`.
 */
export default class RedisCallLeases {
  readonly kind = 'redis' as const

  constructor(
    private redis: Redis,
    private options: { leaseSeconds: number; now?: () => number },
    /** RedisCounterStore's prefix: the checks and counts are its counters. */
    private prefix = 'fluffycall:counter:'
  ) {
    if (!('fluffycallFraudAdmit' in redis))
      redis.defineCommand('fluffycallFraudAdmit', { lua: ADMIT })
    if (!('fluffycallFraudRelease' in redis))
      redis.defineCommand('fluffycallFraudRelease', { lua: RELEASE, numberOfKeys: 1 })
  }

  static setKey(subject: string) {
    return `fraud:cl:${subject}`
  }

  #callKey(callUuid: string) {
    return `${this.prefix}fraud:cl:call:${callUuid}`
  }

  #now() {
    return (this.options.now ?? Date.now)()
  }

  async take(callUuid: string, request: LeaseTake): Promise<CounterTakeResult> {
    const { checks, leases, counts } = request
    const keys = [
      ...checks.map((check) => this.prefix + check.key),
      ...leases.map((lease) => this.prefix + RedisCallLeases.setKey(lease.subject)),
      ...counts.map((count) => this.prefix + count.key),
      this.#callKey(callUuid),
    ]
    const args = [
      checks.length,
      leases.length,
      this.#now(),
      this.options.leaseSeconds * 1000,
      callUuid,
      ...checks.map((check) => limit(check.below)),
      ...leases.map((lease) => limit(lease.limit)),
      ...counts.flatMap((count) => [1, count.windowSeconds]),
    ]
    const admit = (this.redis as unknown as { fluffycallFraudAdmit: AdmitCommand })
      .fluffycallFraudAdmit
    return takeResult(await admit.call(this.redis, keys.length, ...keys, ...args))
  }

  /** Taken with the decision already (FraudGate's hook for the table's row). */
  taken(_callUuid: string, _lease: Lease, _leaseKeys: string[]) {}

  async written() {}

  /** call:ended, on whichever node: idempotent per call. */
  async release(callUuid: string) {
    const release = (this.redis as unknown as { fluffycallFraudRelease: ReleaseCommand })
      .fluffycallFraudRelease
    await release.call(this.redis, this.#callKey(callUuid), callUuid)
  }

  /**
   * Nothing to rebuild: a set counts its members, and drops stale ones when it is next taken. The
   * lease table's rows left from before Redis (or by a node without it during an upgrade) go once
   * they are as old as a lease may be, as the table's own rebuild deletes them.
   */
  async rebuild(leaseSeconds: number) {
    await db
      .from('fraud_call_leases')
      .where('created_at', '<', sqlTime(DateTime.fromMillis(this.#now() - leaseSeconds * 1000)))
      .delete()
    return new Map<string, number>()
  }

  /** Running calls of a subject ("company:4"), stale ones left out. */
  async held(subject: string) {
    const since = this.#now() - this.options.leaseSeconds * 1000
    return this.redis.zcount(this.prefix + RedisCallLeases.setKey(subject), `(${since}`, '+inf')
  }
}
