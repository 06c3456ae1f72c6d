import type { CounterStore, CounterTake, CounterTakeResult } from '#core/counters/types'

export default class MemoryCounterStore implements CounterStore {
  readonly driver = 'memory' as const
  #entries = new Map<string, { value: number; expiresAt: number }>()

  constructor(private now: () => number = Date.now) {}

  #live(key: string) {
    const entry = this.#entries.get(key)
    if (entry && entry.expiresAt <= this.now()) {
      this.#entries.delete(key)
      return undefined
    }
    return entry
  }

  #add(key: string, windowSeconds: number, by: number) {
    const entry = this.#live(key) ?? { value: 0, expiresAt: this.now() + windowSeconds * 1000 }
    entry.value += by
    this.#entries.set(key, entry)
    return entry.value
  }

  async increment(key: string, windowSeconds: number, by = 1) {
    return this.#add(key, windowSeconds, by)
  }

  async get(key: string) {
    return this.#live(key)?.value ?? 0
  }

  async getMany(keys: string[]) {
    return keys.map((key) => this.#live(key)?.value ?? 0)
  }

  async reset(key: string) {
    this.#entries.delete(key)
  }

  /** One synchronous step: nothing else runs between the checks and the takes. */
  async take({ checks = [], leases = [], counts = [] }: CounterTake): Promise<CounterTakeResult> {
    const values = checks.map((check) => this.#live(check.key)?.value ?? 0)
    const check = values.findIndex((value, index) => value >= checks[index].below)
    if (check >= 0) return { taken: false, refused: { check }, values }
    const lease = leases.findIndex(({ key, limit }) => (this.#live(key)?.value ?? 0) + 1 > limit)
    if (lease >= 0) return { taken: false, refused: { lease }, values }
    for (const { key, windowSeconds } of leases) this.#add(key, windowSeconds, 1)
    for (const { key, windowSeconds, by = 1 } of counts) this.#add(key, windowSeconds, by)
    return { taken: true, values }
  }

  async close() {
    this.#entries.clear()
  }
}
