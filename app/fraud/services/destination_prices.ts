import { DateTime } from 'luxon'
import type { PriceLookup } from '#core/price_lookup'

/**
 * Prices per minute for the gate, from billing's lookup (app/core/price_lookup.ts), cached per
 * company and destination so that a repeated destination costs a map lookup.
 */
export default class DestinationPrices {
  #cache = new Map<string, { price: number | null; loadedAt: number }>()

  constructor(
    private lookup: PriceLookup,
    private cacheSeconds: number,
    private now: () => number = Date.now
  ) {}

  async perMinuteMicro(companyId: number, destination: string): Promise<number | null> {
    const key = `${companyId}:${destination}`
    const cached = this.#cache.get(key)
    const at = this.now()
    if (cached && at - cached.loadedAt < this.cacheSeconds * 1000) return cached.price
    const price = await this.lookup.pricePerMinuteMicro(
      companyId,
      destination,
      DateTime.fromMillis(at, { zone: 'utc' })
    )
    if (this.#cache.size >= 50_000) this.#cache.clear()
    this.#cache.set(key, { price, loadedAt: at })
    return price
  }

  forgetAll() {
    this.#cache.clear()
  }
}
