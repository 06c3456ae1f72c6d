import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Binding } from '#calls/sip/registrar/binding'
import type { BindingStore } from '#calls/sip/registrar/binding_store'

/**
 * Writes the binding with its TTL and indexes it under its AOR and its user in one step. The
 * indexes are sorted sets scored by expiry and live as long as their longest binding.
 */
const SAVE = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for index = 2, 3 do
  redis.call('ZADD', KEYS[index], ARGV[3], ARGV[4])
  if redis.call('PTTL', KEYS[index]) < tonumber(ARGV[2]) then
    redis.call('PEXPIRE', KEYS[index], ARGV[2])
  end
end
return 1`

/**
 * Bindings in Redis, shared by every node: `<prefix>binding:<id>` holds one binding as JSON and
 * expires with it; `<prefix>aor:<aor>` and `<prefix>user:<id>` index them.
 */
export default class RedisBindingStore implements BindingStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'fluffycall:sip:bindings:',
    private readonly now: () => number = Date.now
  ) {}

  async list(aor: string): Promise<Binding[]> {
    return this.#liveIn(this.#aorKey(aor))
  }

  async listForUser(userId: number): Promise<Binding[]> {
    return this.#liveIn(this.#userKey(userId))
  }

  async save(binding: Binding): Promise<void> {
    const ttlMs = Math.max(1, Math.ceil(binding.expiresAt - this.now()))
    await this.redis.eval(
      SAVE,
      3,
      this.#bindingKey(bindingId(binding)),
      this.#aorKey(binding.aor),
      this.#userKey(binding.userId),
      JSON.stringify(binding),
      ttlMs,
      binding.expiresAt,
      bindingId(binding)
    )
  }

  async remove(binding: Pick<Binding, 'aor' | 'contactUri' | 'userId'>): Promise<void> {
    const id = bindingId(binding)
    await this.redis
      .multi()
      .del(this.#bindingKey(id))
      .zrem(this.#aorKey(binding.aor), id)
      .zrem(this.#userKey(binding.userId), id)
      .exec()
  }

  async close(): Promise<void> {}

  async #liveIn(indexKey: string): Promise<Binding[]> {
    const now = this.now()
    // Expiry by the store's clock, not Redis's TTL: the TTL is only the clean-up behind it.
    const results = await this.redis
      .multi()
      .zrangebyscore(indexKey, `(${now}`, '+inf')
      .zremrangebyscore(indexKey, '-inf', now)
      .exec()
    const [error, found] = results?.[0] ?? [null, []]
    if (error) {
      throw error
    }
    const ids = found as string[]
    if (ids.length === 0) {
      return []
    }
    const values = await this.redis.mget(ids.map((id) => this.#bindingKey(id)))
    return values
      .filter((value): value is string => value !== null)
      .map((value) => JSON.parse(value) as Binding)
      .filter((binding) => binding.expiresAt > now)
      .sort((a, b) => a.expiresAt - b.expiresAt || a.contactUri.localeCompare(b.contactUri))
  }

  #bindingKey(id: string) {
    return `${this.prefix}binding:${id}`
  }

  #aorKey(aor: string) {
    return `${this.prefix}aor:${aor}`
  }

  #userKey(userId: number) {
    return `${this.prefix}user:${userId}`
  }
}

/** AORs and contact URIs come from the network: hashed into a fixed-size key part. */
function bindingId(binding: Pick<Binding, 'aor' | 'contactUri'>): string {
  return createHash('sha256').update(`${binding.aor}\n${binding.contactUri}`).digest('base64url')
}
