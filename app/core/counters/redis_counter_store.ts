import type { Redis } from 'ioredis'
import type { CounterStore, CounterTake, CounterTakeResult } from '#core/counters/types'

// INCRBY and the window's expiry in one round trip, atomic across processes.
const INCREMENT = `
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if value == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return value`

/**
 * CounterStore.take in one round trip (EVALSHA), atomic: Redis runs nothing else meanwhile.
 * KEYS: the checks, the leases, the counts. ARGV: the number of checks and of leases, then each
 * check's limit, each lease's limit and window, each count's amount and window.
 * Returns {1, 0, values} when taken, {0, i, values} when check i refused, {-1, i, values} when
 * lease i was full (values: the checks' counters).
 */
const TAKE = `
local checks, leases = tonumber(ARGV[1]), tonumber(ARGV[2])
local counts = #KEYS - checks - leases
local values = {}
for i = 1, checks do
  values[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
end
for i = 1, checks do
  if values[i] >= tonumber(ARGV[2 + i]) then return {0, i, values} end
end
local base = 2 + checks
for i = 1, leases do
  local held = tonumber(redis.call('GET', KEYS[checks + i]) or '0')
  if held + 1 > tonumber(ARGV[base + 2 * i - 1]) then return {-1, i, values} end
end
for i = 1, leases do
  local key = KEYS[checks + i]
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, ARGV[base + 2 * i]) end
end
base = base + 2 * leases
for i = 1, counts do
  local key, by = KEYS[checks + leases + i], tonumber(ARGV[base + 2 * i - 1])
  if redis.call('INCRBY', key, by) == by then redis.call('EXPIRE', key, ARGV[base + 2 * i]) end
end
return {1, 0, values}`

type TakeCommand = (...args: Array<string | number>) => Promise<[number, number, number[]]>
type IncrementCommand = (...args: Array<string | number>) => Promise<number>

/** A limit as Lua reads it (tonumber), unlimited as a number no counter reaches. */
export function limit(value: number) {
  return Number.isFinite(value) ? value : value > 0 ? '1e308' : '-1e308'
}

/** A take script's reply ({1, 0, values}, {0, i, values} or {-1, i, values}) as a CounterTakeResult. */
export function takeResult([outcome, index, raw]: [number, number, number[]]): CounterTakeResult {
  const values = raw.map(Number)
  if (outcome === 1) return { taken: true, values }
  return {
    taken: false,
    refused: outcome === 0 ? { check: index - 1 } : { lease: index - 1 },
    values,
  }
}

export default class RedisCounterStore implements CounterStore {
  readonly driver = 'redis' as const

  constructor(
    private redis: Redis,
    private prefix = 'fluffycall:counter:'
  ) {
    // EVALSHA with the script loaded on first use (ioredis falls back to EVAL once per connection)
    if (!('fluffycallCounterTake' in redis))
      redis.defineCommand('fluffycallCounterTake', { lua: TAKE })
    if (!('fluffycallCounterIncrement' in redis))
      redis.defineCommand('fluffycallCounterIncrement', { lua: INCREMENT, numberOfKeys: 1 })
  }

  async increment(key: string, windowSeconds: number, by = 1) {
    const command = (this.redis as unknown as { fluffycallCounterIncrement: IncrementCommand })
      .fluffycallCounterIncrement
    const value = await command.call(this.redis, this.prefix + key, by, windowSeconds)
    return Number(value)
  }

  async get(key: string) {
    return Number((await this.redis.get(this.prefix + key)) ?? 0)
  }

  async getMany(keys: string[]) {
    if (keys.length === 0) return []
    const values = await this.redis.mget(keys.map((key) => this.prefix + key))
    return values.map((value) => Number(value ?? 0))
  }

  async reset(key: string) {
    await this.redis.del(this.prefix + key)
  }

  async take({ checks = [], leases = [], counts = [] }: CounterTake): Promise<CounterTakeResult> {
    const keys = [...checks, ...leases, ...counts].map(({ key }) => this.prefix + key)
    const args = [
      checks.length,
      leases.length,
      ...checks.map((check) => limit(check.below)),
      ...leases.flatMap((lease) => [limit(lease.limit), lease.windowSeconds]),
      ...counts.flatMap((count) => [count.by ?? 1, count.windowSeconds]),
    ]
    const take = (this.redis as unknown as { fluffycallCounterTake: TakeCommand })
      .fluffycallCounterTake
    return takeResult(await take.call(this.redis, keys.length, ...keys, ...args))
  }

  async close() {}
}
