import type { CounterStore } from '#core/counters/types'

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

  async increment(key: string, windowSeconds: number, by = 1) {
    const entry = this.#live(key) ?? { value: 0, expiresAt: this.now() + windowSeconds * 1000 }
    entry.value += by
    this.#entries.set(key, entry)
    return entry.value
  }

  async get(key: string) {
    return this.#live(key)?.value ?? 0
  }

  async reset(key: string) {
    this.#entries.delete(key)
  }

  async close() {
    this.#entries.clear()
  }
}
