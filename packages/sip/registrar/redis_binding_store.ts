import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Binding } from '#sip/registrar/binding'
import type { BindingStore } from '#sip/registrar/binding_store'

/**
 * Writes the binding with its TTL and indexes it under its AOR, its user and (for stream clients)
 * its connection in one step. The indexes are sorted sets scored by expiry and live as long as
 * their longest binding.
 */
const SAVE = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for index = 2, #KEYS do
  redis.call('ZADD', KEYS[index], ARGV[3], ARGV[4])
  if redis.call('PTTL', KEYS[index]) < tonumber(ARGV[2]) then
    redis.call('PEXPIRE', KEYS[index], ARGV[2])
  end
end
return 1`

/**
 * Removes the bindings indexed under a closed connection that still name it (one refreshed over
 * another connection since stays), with their AOR and user index entries; returns them as JSON.
 * Atomic, so a REGISTER arriving meanwhile over a new connection is never lost.
 */
const REMOVE_BY_CONNECTION = `
local removed = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[2] .. 'binding:' .. id
  local value = redis.call('GET', key)
  if value then
    local binding = cjson.decode(value)
    if type(binding.source) == 'table' and binding.source.connectionId == ARGV[1] then
      redis.call('DEL', key)
      redis.call('ZREM', ARGV[2] .. 'aor:' .. binding.aor, id)
      redis.call('ZREM', ARGV[2] .. 'user:' .. string.format('%d', binding.userId), id)
      table.insert(removed, value)
    end
  end
end
redis.call('DEL', KEYS[1])
return removed`

/**
 * Bindings in Redis, shared by every node: `<prefix>binding:<id>` holds one binding as JSON and
 * expires with it; `<prefix>aor:<aor>`, `<prefix>user:<id>` and, for stream clients,
 * `<prefix>connection:<connection id>` index them. Connection ids are random per connection, so
 * a node only ever removes the bindings of its own closed connections.
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
    const connectionId = binding.source.connectionId
    const keys = [
      this.#bindingKey(bindingId(binding)),
      this.#aorKey(binding.aor),
      this.#userKey(binding.userId),
      ...(connectionId !== undefined ? [this.#connectionKey(connectionId)] : []),
    ]
    await this.redis.eval(
      SAVE,
      keys.length,
      ...keys,
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

  async removeByConnection(connectionId: string): Promise<Binding[]> {
    const removed = (await this.redis.eval(
      REMOVE_BY_CONNECTION,
      1,
      this.#connectionKey(connectionId),
      connectionId,
      // The script names keys itself: ioredis's own keyPrefix is added to KEYS only.
      `${this.redis.options.keyPrefix ?? ''}${this.prefix}`
    )) as string[]
    return removed.map((value) => JSON.parse(value) as Binding).sort(byExpiry)
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
      .sort(byExpiry)
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

  /** Connection ids are our own random tokens, safe as a key part. */
  #connectionKey(connectionId: string) {
    return `${this.prefix}connection:${connectionId}`
  }
}

/** AORs and contact URIs come from the network: hashed into a fixed-size key part. */
function bindingId(binding: Pick<Binding, 'aor' | 'contactUri'>): string {
  return createHash('sha256').update(`${binding.aor}\n${binding.contactUri}`).digest('base64url')
}

function byExpiry(a: Binding, b: Binding) {
  return a.expiresAt - b.expiresAt || a.contactUri.localeCompare(b.contactUri)
}
