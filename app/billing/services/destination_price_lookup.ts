import type { DateTime } from 'luxon'
import type { PriceLookup } from '#core/price_lookup'
import RatingService from '#billing/services/rating_service'
import { e164Digits } from '#billing/tariff_arithmetic'

/** Billing's answer to "what does this destination cost per minute": the rate rating would use. */
export default class DestinationPriceLookup implements PriceLookup {
  constructor(private rating = new RatingService()) {}

  async pricePerMinuteMicro(companyId: number, destination: string, at: DateTime) {
    const digits = e164Digits(destination)
    if (digits === null) return null
    const rate = await this.rating.rateFor(companyId, digits, at)
    return rate ? rate.pricePerMinute : null
  }
}
