import type { Redis } from 'ioredis'
import type { CounterStore } from '#core/counters/types'

// INCRBY and the window's expiry in one round trip, atomic across processes.
const INCREMENT = `
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if value == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return value`

export default class RedisCounterStore implements CounterStore {
  readonly driver = 'redis' as const

  constructor(
    private redis: Redis,
    private prefix = 'fluffycall:counter:'
  ) {}

  async increment(key: string, windowSeconds: number, by = 1) {
    const value = await this.redis.eval(INCREMENT, 1, this.prefix + key, by, windowSeconds)
    return Number(value)
  }

  async get(key: string) {
    return Number((await this.redis.get(this.prefix + key)) ?? 0)
  }

  async reset(key: string) {
    await this.redis.del(this.prefix + key)
  }

  async close() {}
}
