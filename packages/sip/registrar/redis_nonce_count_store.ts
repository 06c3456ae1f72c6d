import type { Redis } from 'ioredis'
import type { NonceCountStore } from '#sip/registrar/nonce_count_store'

// Compare and raise in one step, so two nodes cannot both accept the same count.
const ADVANCE = `
local seen = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) <= seen then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`

export default class RedisNonceCountStore implements NonceCountStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'fluffycall:sip:nc:'
  ) {}

  async advance(nonce: string, count: number, ttlSeconds: number): Promise<boolean> {
    const accepted = await this.redis.eval(ADVANCE, 1, this.prefix + nonce, count, ttlSeconds)
    return Number(accepted) === 1
  }

  async close(): Promise<void> {}
}
