import type { NonceCountStore } from '#sip/registrar/nonce_count_store'

export default class MemoryNonceCountStore implements NonceCountStore {
  #counts = new Map<string, { count: number; expiresAt: number }>()

  constructor(private readonly now: () => number = Date.now) {}

  async advance(nonce: string, count: number, ttlSeconds: number): Promise<boolean> {
    this.#prune()
    const seen = this.#counts.get(nonce)
    if (seen && seen.count >= count) {
      return false
    }
    // Re-inserted at the end, so the map stays ordered by expiry for #prune.
    this.#counts.delete(nonce)
    this.#counts.set(nonce, { count, expiresAt: this.now() + ttlSeconds * 1000 })
    return true
  }

  async close(): Promise<void> {
    this.#counts.clear()
  }

  /** Drops expired nonces; entries are in insertion order, so the oldest come first. */
  #prune() {
    const now = this.now()
    for (const [nonce, entry] of this.#counts) {
      if (entry.expiresAt > now) {
        break
      }
      this.#counts.delete(nonce)
    }
  }
}
