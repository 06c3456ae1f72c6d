import type { Redis } from 'ioredis'
import type { NonceCountStore } from '#sip/registrar/nonce_count_store'

// Compare and raise in one step, so two nodes cannot both accept the same count.
const ADVANCE = `
local seen = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) <= seen then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`

type AdvanceCommand = (key: string, count: number, ttlSeconds: number) => Promise<number>

export default class RedisNonceCountStore implements NonceCountStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'fluffycall:sip:nc:'
  ) {
    // EVALSHA with the script loaded on first use, as the counter store's scripts: EVAL sent the
    // script's text with every authenticated request and Redis hashed it each time.
    if (!('fluffycallNonceAdvance' in redis))
      redis.defineCommand('fluffycallNonceAdvance', { lua: ADVANCE, numberOfKeys: 1 })
  }

  async advance(nonce: string, count: number, ttlSeconds: number): Promise<boolean> {
    const advance = (this.redis as unknown as { fluffycallNonceAdvance: AdvanceCommand })
      .fluffycallNonceAdvance
    const accepted = await advance.call(this.redis, this.prefix + nonce, count, ttlSeconds)
    return Number(accepted) === 1
  }

  async close(): Promise<void> {}
}
