import { ChangeVersion, type ChangedRow, type ChangesBus } from '#core/caching/change_version'

/**
 * The lookups every call makes (a device's credential, its user, the company with its status and
 * settings) are kept between calls (LookupCache) and dropped whenever one of those rows changes:
 * the models bump this version on every save and delete (again when their transaction commits or
 * rolls back); with Redis the calls provider also publishes each bump on calls:lookups-changed, so
 * every node drops them (ChangeVersion, as the routing tables).
 *
 * Coarse on purpose: any change drops every entry. Admin changes are rare next to calls, and a
 * suspended company, a disabled user or a revoked device must never be served from an old entry.
 *
 * Two ways to notice a change: the models' hooks (companies, users, devices: tables that calls
 * also write in ways that must not drop anything, such as a device's last call), and for the
 * tables a LookupCache names (`tables`), every statement written to them, whoever sends it: the
 * database connections are watched (watchLookupTables), so the services that change numbers,
 * suspensions or price lists with the query builder or raw SQL need no hook to remember. Rows
 * changed by raw SQL in the hooked tables are not seen: such code calls lookupsChanged() itself
 * (the account end and the erasure do), and entries live at most LOOKUP_TTL_MS as a last resort.
 */
const lookups = new ChangeVersion('calls:lookups-changed')

/** The longest an entry is served, whatever happens. */
export const LOOKUP_TTL_MS = 60_000

export function lookupsVersion() {
  return lookups.current
}

/** A looked-up row changed in this process: here and (through Redis, when set) on every node. */
export function lookupsChanged() {
  lookups.changed()
}

/** A model hook: a looked-up row changed, in a transaction or not. */
export function lookupRowChanged(row: ChangedRow) {
  lookups.rowChanged(row)
}

/** Every node publishes its changes and drops its entries on the others'. Returns the way back. */
export function shareLookupChanges(bus: ChangesBus, options: { prefix: string; nodeId: string }) {
  return lookups.share(bus, options)
}

/** The tables whose every write drops the lookups (named by the caches that read them). */
const watchedTables = new Set<string>()

/** What the watch needs of a knex instance (Lucid's connection.client): its query events. */
export interface QueryEvents {
  on(event: 'query' | 'query-response', listener: (...args: any[]) => void): unknown
}
interface WatchedQuery {
  sql?: string
  __knexUid?: string
  __knexTxId?: string
}

// The table a statement writes: insert (or replace, upsert), update, delete; `x`, "x" or x.
const WRITE =
  /^\s*(?:insert(?:\s+or\s+\w+)?\s+into|replace\s+into|update|delete\s+from)\s+[`"]?(\w+)/i
const END_OF_TRANSACTION = /^\s*(?:commit|rollback)\b(?!\s+to\b)/i
/**
 * knex tells of a transaction's COMMIT before it runs and never after: a server database
 * (PostgreSQL) may still show the old row for that round trip, so the lookups are dropped once
 * more after it.
 */
export const COMMIT_SETTLE_MS = 50
const watching = new WeakSet<object>()

function watchedTableOf(sql: unknown) {
  if (typeof sql !== 'string') return undefined
  const table = writtenTableOf(sql)
  return table && watchedTables.has(table) ? table : undefined
}

/**
 * The table a statement writes ('' for none), remembered per SQL text: the call path's
 * statements are a few texts run again and again (with their values as bindings), and the
 * pattern ran twice per statement (issue 17). Bounded: texts with inlined values start afresh.
 */
const writtenTables = new Map<string, string>()
function writtenTableOf(sql: string) {
  let table = writtenTables.get(sql)
  if (table === undefined) {
    table = WRITE.exec(sql)?.[1]?.toLowerCase() ?? ''
    if (writtenTables.size >= 1000) writtenTables.clear()
    writtenTables.set(sql, table)
  }
  return table
}

/**
 * Watches one database connection's statements: a write to a watched table drops the lookups
 * before it runs and again when it is done; in a transaction, again when that transaction
 * commits or rolls back (and COMMIT_SETTLE_MS after), so an old row read meanwhile is not kept.
 * The transaction is followed by its connection, which it holds to the end, so savepoints of
 * nested transactions change nothing.
 */
export function watchLookupTables(client: QueryEvents, changed: () => void = lookups.changed) {
  if (watching.has(client)) return
  watching.add(client)
  const inTransaction = new Set<string>()
  client.on('query', (query: WatchedQuery) => {
    const connection = query.__knexUid
    if (connection && inTransaction.size && END_OF_TRANSACTION.test(query.sql ?? '')) {
      if (!inTransaction.delete(connection)) return
      changed()
      setTimeout(changed, COMMIT_SETTLE_MS).unref()
      return
    }
    if (!watchedTableOf(query.sql)) return
    changed()
    if (query.__knexTxId && connection) inTransaction.add(connection)
  })
  client.on('query-response', (_response: unknown, query: WatchedQuery) => {
    if (!query.__knexTxId && watchedTableOf(query.sql)) changed()
  })
}

/**
 * Values by key, valid while no looked-up row changed (and for LOOKUP_TTL_MS at most). A value
 * loaded while a change happened is returned but not kept. `tables`: what the values are read
 * from besides the hooked models; any write to them drops every entry (watchLookupTables).
 */
export class LookupCache<K, V> {
  #entries = new Map<K, { value: V; version: number; at: number }>()
  private maxEntries: number
  private now: () => number

  constructor(options: { tables?: string[]; maxEntries?: number; now?: () => number } = {}) {
    this.maxEntries = options.maxEntries ?? 10_000
    this.now = options.now ?? Date.now
    for (const table of options.tables ?? []) watchedTables.add(table.toLowerCase())
  }

  async get(key: K, load: () => Promise<V>): Promise<V> {
    const current = lookupsVersion()
    const hit = this.#entries.get(key)
    if (hit && hit.version === current && this.now() - hit.at < LOOKUP_TTL_MS) return hit.value
    const value = await load()
    if (lookupsVersion() === current) {
      this.#entries.delete(key)
      this.#entries.set(key, { value, version: current, at: this.now() })
      if (this.#entries.size > this.maxEntries)
        this.#entries.delete(this.#entries.keys().next().value!)
    } else {
      this.#entries.delete(key)
    }
    return value
  }

  /** Drops one key (a change this process made and knows the key of). */
  forget(key: K) {
    this.#entries.delete(key)
  }

  clear() {
    this.#entries.clear()
  }
}
