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
 * Rows changed by raw SQL are not seen by the hooks: such code calls lookupsChanged() itself (the
 * account end and the erasure do), and entries live at most LOOKUP_TTL_MS as a last resort.
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

/**
 * Values by key, valid while no looked-up row changed (and for LOOKUP_TTL_MS at most). A value
 * loaded while a change happened is returned but not kept.
 */
export class LookupCache<K, V> {
  #entries = new Map<K, { value: V; version: number; at: number }>()

  constructor(
    private maxEntries = 10_000,
    private now: () => number = Date.now
  ) {}

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

  clear() {
    this.#entries.clear()
  }
}
