import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import { sqlTime } from '#core/sql_time'
import PriceList from '#billing/models/price_list'
import PriceListRate from '#billing/models/price_list_rate'
import {
  answeredCallCost,
  e164Digits,
  longestPrefixMatch,
  microToCents,
  versionValidAt,
} from '#billing/tariff_arithmetic'
import { LookupCache } from '#core/caching/lookup_changes'

/**
 * Every answered call is rated: its company's lists with their versions, and the rates of a
 * destination, are kept until a list, version or rate is written (#core/caching/lookup_changes).
 * Shared rows: read them, never change them.
 */
const priceTables = ['price_lists', 'price_list_versions', 'price_list_rates']
const priceLists = new LookupCache<number | null, PriceList[]>({ tables: priceTables })
const candidateRates = new LookupCache<string, PriceListRate[]>({ tables: priceTables })

/**
 * The facts of a CDR that rating reads, as the `call:ended` payload carries them. Billing does not
 * import the calls module's model (ARCHITECTURE.md); any object of this shape can be rated.
 */
export interface RatableCall {
  id: number
  companyId: number | null
  direction: string
  emergency: boolean
  calleeNumber: string | null
  startedAt: DateTime
  answeredAt: DateTime | null
  durationSeconds: number | null
}

/**
 * free: emergency (§ 164 TKG), inbound (the caller's provider charges the caller), the echo test
 *   (never leaves our system) and every call that was not answered.
 * priced: an answered outbound call to a destination a price list has.
 * unpriced: an answered outbound call no price list covers; cost stays null for staff to see.
 */
export type Rating = 'free' | 'priced' | 'unpriced'

export interface Quote {
  rating: Rating
  costMicro: number | null
  rate: PriceListRate | null
}

/** Rates a CDR once: the price list valid when the call started, longest prefix, exact amounts. */
export default class RatingService {
  async quote(call: RatableCall): Promise<Quote> {
    if (call.emergency || call.direction !== 'outbound' || !call.answeredAt)
      return { rating: 'free', costMicro: 0, rate: null }
    const digits = e164Digits(call.calleeNumber)
    const rate = digits === null ? null : await this.rateFor(call.companyId, digits, call.startedAt)
    if (!rate) return { rating: 'unpriced', costMicro: null, rate: null }
    return { rating: 'priced', costMicro: answeredCallCost(call.durationSeconds ?? 0, rate), rate }
  }

  /**
   * The company's override list is asked first (its longest matching prefix); when it has no
   * prefix for the number, the default list prices the call. Each list by its version valid at `at`.
   */
  async rateFor(
    companyId: number | null,
    digits: string,
    at: DateTime
  ): Promise<PriceListRate | null> {
    const lists = await priceLists.get(companyId, () =>
      PriceList.query()
        .where((query) => {
          query.whereNull('company_id')
          if (companyId !== null) query.orWhere('company_id', companyId)
        })
        .preload('versions')
    )
    // The company's list first, then the default (one at most, migration 0621); by id otherwise
    const ordered = [...lists].sort(
      (a, b) => Number(a.isDefault) - Number(b.isDefault) || a.id - b.id
    )
    for (const list of ordered) {
      const version = versionValidAt(at, list.versions)
      if (!version) continue
      // Only the candidates: every leading part of the number, "" included (16 at most)
      const candidates = Array.from({ length: digits.length + 1 }, (_, length) =>
        digits.slice(0, length)
      )
      const rates = await candidateRates.get(`${version.id}:${digits}`, () =>
        PriceListRate.query()
          .where('price_list_version_id', version.id)
          .whereIn('prefix', candidates)
      )
      const match = longestPrefixMatch(digits, rates)
      if (match) return match
    }
    return null
  }

  /**
   * Writes the CDR's cost once: only a row that has no rated_at yet is updated, in one statement,
   * so a repeated call:ended (or two nodes) cannot rate twice. Returns whether this call rated it.
   */
  async rate(call: RatableCall, now = DateTime.utc()): Promise<boolean> {
    return (await this.rateOnce(call, now)).rated
  }

  /**
   * The rating as columns for the CDR's end write (the calls module's seam, registered in
   * start/events.ts): the same row, one statement, only while rated_at is null. The cost is kept
   * with the record object until its `call:ended` listener takes it (`takeRatedWithEnd`).
   */
  async endWrite(call: RatableCall, now = DateTime.utc()) {
    const quote = await this.quote(call)
    return {
      columns: this.#ratingColumns(quote, now),
      onceColumn: 'rated_at',
      written: () => {
        ratedWithEnd.set(call, quote.costMicro)
        this.#warnUnpriced(call, quote)
      },
    }
  }

  /** The same, with the cost this call wrote (null when it did not rate it, or unpriced). */
  async rateOnce(
    call: RatableCall,
    now = DateTime.utc()
  ): Promise<{ rated: boolean; costMicro: number | null }> {
    const quote = await this.quote(call)
    const updated = await db
      .from('call_records')
      .where('id', call.id)
      .whereNull('rated_at')
      .update(this.#ratingColumns(quote, now))
    const count = Array.isArray(updated) ? updated.length : Number(updated)
    this.#warnUnpriced(call, quote)
    return { rated: count > 0, costMicro: count > 0 ? quote.costMicro : null }
  }

  #ratingColumns(quote: Quote, now: DateTime) {
    return {
      cost_micro: quote.costMicro,
      cost_cents: quote.costMicro === null ? null : microToCents(quote.costMicro),
      rating: quote.rating,
      rated_at: sqlTime(now),
    }
  }

  #warnUnpriced(call: RatableCall, quote: Quote) {
    if (quote.rating === 'unpriced')
      logger.warn(
        { cdr: call.id },
        'billing: no price list covers the destination of an answered call'
      )
  }
}

/**
 * The CDRs (the record objects) their end write rated, with the cost written: the `call:ended`
 * listener takes each once, so a repeated event for the same object finds nothing and falls back
 * to `rateOnce`, whose `rated_at IS NULL` writes nothing. Weak: a record nobody announces goes.
 */
const ratedWithEnd = new WeakMap<RatableCall, number | null>()

/** Whether the end write rated this record, and its cost (taken once); undefined when it did not. */
export function takeRatedWithEnd(call: RatableCall): { costMicro: number | null } | undefined {
  if (!ratedWithEnd.has(call)) return undefined
  const costMicro = ratedWithEnd.get(call)!
  ratedWithEnd.delete(call)
  return { costMicro }
}
