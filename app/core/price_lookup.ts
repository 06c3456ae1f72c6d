import type { DateTime } from 'luxon'

/**
 * The seam between who knows prices (billing: price lists, company overrides) and who must hold
 * calls to a maximum price per minute and spend caps (fraud). Billing registers its lookup at
 * boot; without one, no destination has a known price and price rules do not apply.
 */
export interface PriceLookup {
  /** The price per minute in 1/10,000 cent a company pays for a destination at `at`; null when no list prices it. */
  pricePerMinuteMicro(companyId: number, destination: string, at: DateTime): Promise<number | null>
}

class PriceLookups implements PriceLookup {
  #lookup: PriceLookup | null = null

  use(lookup: PriceLookup | null) {
    this.#lookup = lookup
  }

  async pricePerMinuteMicro(companyId: number, destination: string, at: DateTime) {
    return this.#lookup ? this.#lookup.pricePerMinuteMicro(companyId, destination, at) : null
  }
}

const priceLookup = new PriceLookups()
export default priceLookup
