/**
 * The dispatch keys a queue driver saw lately, bounded (the oldest forgotten first): a key seen
 * again is answered in process, without queueing or a round trip (both drivers).
 */
export default class RecentKeys {
  #keys = new Set<string>()

  constructor(private readonly limit = 10_000) {}

  has(key: string) {
    return this.#keys.has(key)
  }

  add(key: string) {
    this.#keys.add(key)
    if (this.#keys.size > this.limit) this.#keys.delete(this.#keys.values().next().value!)
  }

  delete(key: string) {
    this.#keys.delete(key)
  }
}
