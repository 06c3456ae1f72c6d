import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { reachKeyOf, subjectLevels, type Binding } from '#sip/registrar/binding'
import type { BindingStore } from '#sip/registrar/binding_store'
import { readStoredBinding, type LegacySubject } from '#sip/registrar/stored_binding'

/** Lua: the levels of a subject (`a/b` -> `a`, `a/b`), as subjectLevels gives them. */
const LEVELS = `
local function levels(subject)
  local found, at = {}, 0
  while true do
    at = string.find(subject, '/', at + 1, true)
    if not at then break end
    table.insert(found, string.sub(subject, 1, at - 1))
  end
  table.insert(found, subject)
  return found
end`

/**
 * Writes the binding with its TTL and indexes it under its AOR, each level of its subject and (for stream clients)
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
 * Removes the bindings indexed under a closed connection or front flow that still name it (one
 * refreshed over another connection since stays; ARGV[1] is the reach key, see reachKeyOf), with their AOR and subject index entries (the user index for
 * one of the first format); returns them as JSON. Atomic, so a REGISTER arriving meanwhile over a
 * new connection is never lost.
 */
const REMOVE_BY_CONNECTION = `${LEVELS}
local removed = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[2] .. 'binding:' .. id
  local value = redis.call('GET', key)
  if value then
    local binding = cjson.decode(value)
    local reach = nil
    if type(binding.flow) == 'string' then
      reach = 'flow:' .. binding.flow
    elseif type(binding.source) == 'table' and type(binding.source.connectionId) == 'string' then
      reach = 'connection:' .. binding.source.connectionId
    end
    if reach == ARGV[1] then
      redis.call('DEL', key)
      redis.call('ZREM', ARGV[2] .. 'aor:' .. binding.aor, id)
      if type(binding.subject) == 'string' then
        for _, level in ipairs(levels(binding.subject)) do
          redis.call('ZREM', ARGV[2] .. 'subject:' .. level, id)
        end
      elseif type(binding.userId) == 'number' then
        redis.call('ZREM', ARGV[2] .. 'user:' .. string.format('%d', binding.userId), id)
      end
      table.insert(removed, value)
    end
  end
end
redis.call('DEL', KEYS[1])
return removed`

/**
 * Gives a binding of the first format (indexed under `user:<id>`) its subject and moves it to the
 * subject indexes, keeping its TTL; only if it is still what was read (a REGISTER meanwhile wins).
 * KEYS: the binding. ARGV: what was read, the new JSON, the binding id, the full prefix, the
 * expiry, then the subject's levels.
 */
const UPGRADE = `
local value = redis.call('GET', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if value ~= ARGV[1] or ttl <= 0 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
for index = 6, #ARGV do
  local key = ARGV[4] .. 'subject:' .. ARGV[index]
  redis.call('ZADD', key, ARGV[5], ARGV[3])
  if redis.call('PTTL', key) < ttl then
    redis.call('PEXPIRE', key, ttl)
  end
end
local old = cjson.decode(value)
redis.call('ZREM', ARGV[4] .. 'user:' .. string.format('%d', old.userId), ARGV[3])
return 1`

/**
 * Bindings in Redis, shared by every node: `<prefix>binding:<id>` holds one binding as JSON and
 * expires with it; `<prefix>aor:<aor>`, `<prefix>subject:<level>` (one per level of its subject)
 * and, for stream clients, `<prefix>connection:<connection id>` (or `<prefix>flow:<flow>` behind
 * a front) index them. Connection ids are random per connection, so a node only ever removes the
 * bindings of its own closed connections; a front's flows are removed by any node it tells.
 *
 * Bindings of the first format (user, company and device ids, indexed under `<prefix>user:<id>`)
 * are read with the owner's `legacySubject`; `upgradeLegacy` moves them to the subject indexes.
 */
export default class RedisBindingStore implements BindingStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'fluffycall:sip:bindings:',
    private readonly now: () => number = Date.now,
    private readonly legacySubject?: LegacySubject
  ) {}

  async list(aor: string): Promise<Binding[]> {
    return this.#liveIn(this.#aorKey(aor))
  }

  async listForSubject(subject: string): Promise<Binding[]> {
    return this.#liveIn(this.#subjectKey(subject))
  }

  async save(binding: Binding): Promise<void> {
    const ttlMs = Math.max(1, Math.ceil(binding.expiresAt - this.now()))
    const reach = reachKeyOf(binding)
    const keys = [
      this.#bindingKey(bindingId(binding)),
      this.#aorKey(binding.aor),
      ...subjectLevels(binding.subject).map((level) => this.#subjectKey(level)),
      ...(reach !== undefined ? [this.#reachKey(reach)] : []),
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

  async remove(binding: Pick<Binding, 'aor' | 'contactUri' | 'subject'>): Promise<void> {
    const id = bindingId(binding)
    const removal = this.redis.multi().del(this.#bindingKey(id)).zrem(this.#aorKey(binding.aor), id)
    for (const level of subjectLevels(binding.subject)) {
      removal.zrem(this.#subjectKey(level), id)
    }
    await removal.exec()
  }

  async removeByConnection(connectionId: string): Promise<Binding[]> {
    return this.#removeByReach(`connection:${connectionId}`)
  }

  async removeByFlow(flow: string): Promise<Binding[]> {
    return this.#removeByReach(`flow:${flow}`)
  }

  async #removeByReach(reach: string): Promise<Binding[]> {
    const removed = (await this.redis.eval(
      REMOVE_BY_CONNECTION,
      1,
      this.#reachKey(reach),
      reach,
      // The script names keys itself: ioredis's own keyPrefix is added to KEYS only.
      `${this.redis.options.keyPrefix ?? ''}${this.prefix}`
    )) as string[]
    return this.#read(removed).sort(byExpiry)
  }

  /**
   * Moves the bindings of the first format to the subject indexes (once, at boot after an
   * upgrade: until then only their AOR finds them); returns how many it moved.
   */
  async upgradeLegacy(): Promise<number> {
    if (!this.legacySubject) {
      return 0
    }
    // SCAN and the script take whole key names: ioredis's keyPrefix is added to KEYS only.
    const keyPrefix = this.redis.options.keyPrefix ?? ''
    const full = `${keyPrefix}${this.prefix}`
    let upgraded = 0
    let cursor = '0'
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        `${full.replace(/[*?[\]\\]/g, '\\$&')}binding:*`,
        'COUNT',
        500
      )
      cursor = next
      const values = keys.length
        ? await this.redis.mget(keys.map((key) => key.slice(keyPrefix.length)))
        : []
      for (const [index, value] of values.entries()) {
        const binding =
          value === null || isCurrent(value)
            ? undefined
            : readStoredBinding(value, this.legacySubject)
        if (!binding) {
          continue
        }
        upgraded += (await this.redis.eval(
          UPGRADE,
          1,
          keys[index].slice(keyPrefix.length),
          value!,
          JSON.stringify(binding),
          bindingId(binding),
          full,
          binding.expiresAt,
          ...subjectLevels(binding.subject)
        )) as number
      }
    } while (cursor !== '0')
    return upgraded
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
    return this.#read(values.filter((value): value is string => value !== null))
      .filter((binding) => binding.expiresAt > now)
      .sort(byExpiry)
  }

  #read(values: string[]): Binding[] {
    return values
      .map((value) => readStoredBinding(value, this.legacySubject))
      .filter((binding): binding is Binding => binding !== undefined)
  }

  #bindingKey(id: string) {
    return `${this.prefix}binding:${id}`
  }

  #aorKey(aor: string) {
    return `${this.prefix}aor:${aor}`
  }

  /** Subjects are the owner's words, not the network's: used as they are. */
  #subjectKey(level: string) {
    return `${this.prefix}subject:${level}`
  }

  /**
   * `connection:<id>` (our own random tokens) or `flow:<proto>:<ip>:<port>` (checked by
   * parseClientSource before it is stored): both safe as a key part.
   */
  #reachKey(reach: string) {
    return `${this.prefix}${reach}`
  }
}

/** AORs and contact URIs come from the network: hashed into a fixed-size key part. */
function bindingId(binding: Pick<Binding, 'aor' | 'contactUri'>): string {
  return createHash('sha256').update(`${binding.aor}\n${binding.contactUri}`).digest('base64url')
}

/** A binding JSON of the current format (has a subject): nothing to upgrade. */
function isCurrent(value: string): boolean {
  return typeof (JSON.parse(value) as { subject?: unknown }).subject === 'string'
}

function byExpiry(a: Binding, b: Binding) {
  return a.expiresAt - b.expiresAt || a.contactUri.localeCompare(b.contactUri)
}
