/**
 * The arithmetic of rating, kept free of the database so each rule is tested alone. Amounts are
 * integers in 1/10,000 cent ("micro": 1 EUR = 1,000,000), e.g. 0.89 ct/min = 8,900.
 *
 * Rounding rule (written once, used everywhere):
 * 1. A call's cost is connection fee + price per minute × billed seconds / 60, the quotient rounded
 *    UP to the next whole 1/10,000 cent (the only rounding while rating; at most 1/10,000 cent).
 * 2. The whole cents shown per call (call_records.cost_cents) are cost_micro / 10,000 rounded half
 *    up; they are for display only, sums are always taken over cost_micro.
 * 3. An invoice line (not in this slice) sums cost_micro and rounds half up to cents once.
 */

import { e164Digits as readE164Digits } from '#core/e164'

export const MICRO_PER_CENT = 10_000

export type BillingIncrement = '60/60' | '60/1' | '1/1'
export const BILLING_INCREMENTS: readonly BillingIncrement[] = ['60/60', '60/1', '1/1']

export function parseIncrement(increment: BillingIncrement): { first: number; next: number } {
  const [first, next] = increment.split('/').map(Number)
  return { first, next }
}

export function formatIncrement(first: number, next: number): BillingIncrement | null {
  const value = `${first}/${next}`
  return (BILLING_INCREMENTS as readonly string[]).includes(value)
    ? (value as BillingIncrement)
    : null
}

/**
 * Seconds charged for an answered call: the first interval at least, then whole next intervals.
 * An answered call of 0 s is charged its first interval (it was connected).
 */
export function billedSeconds(durationSeconds: number, first: number, next: number): number {
  const duration = Math.max(0, Math.ceil(durationSeconds))
  if (duration <= first) return first
  return first + Math.ceil((duration - first) / next) * next
}

export interface RateTerms {
  pricePerMinute: number
  connectionFee: number
  firstInterval: number
  nextInterval: number
}

/** The cost of an answered call in 1/10,000 cent (rule 1). Integer arithmetic, exact. */
export function answeredCallCost(durationSeconds: number, rate: RateTerms): number {
  const seconds = billedSeconds(durationSeconds, rate.firstInterval, rate.nextInterval)
  const product = BigInt(rate.pricePerMinute) * BigInt(seconds)
  const perTime = (product + 59n) / 60n
  return rate.connectionFee + Number(perTime)
}

/** Whole cents of an amount in 1/10,000 cent, half up (rule 2); negative amounts mirror it. */
export function microToCents(micro: number): number {
  const sign = micro < 0 ? -1 : 1
  return sign * Math.floor((Math.abs(micro) + MICRO_PER_CENT / 2) / MICRO_PER_CENT)
}

/** "+49 30 123456" or "004930123456" → "4930123456"; null when it is no international number (#core/e164). */
export function e164Digits(number: string | null | undefined): string | null {
  return readE164Digits(number)
}

/** The entry with the longest prefix of `digits` ("" matches everything), or null. */
export function longestPrefixMatch<T extends { prefix: string }>(
  digits: string,
  entries: readonly T[]
): T | null {
  let best: T | null = null
  for (const entry of entries) {
    if (!digits.startsWith(entry.prefix)) continue
    if (!best || entry.prefix.length > best.prefix.length) best = entry
  }
  return best
}

/** The version valid at `at`: the latest valid_from at or before it. */
export function versionValidAt<T extends { validFrom: { toMillis(): number } }>(
  at: { toMillis(): number },
  versions: readonly T[]
): T | null {
  let best: T | null = null
  for (const version of versions) {
    if (version.validFrom.toMillis() > at.toMillis()) continue
    if (!best || version.validFrom.toMillis() > best.validFrom.toMillis()) best = version
  }
  return best
}
