import { DateTime } from 'luxon'

/**
 * Commercial retention periods as data. Since 1 January 2025 (Bürokratieentlastungsgesetz IV)
 * invoices and booking vouchers are kept 8 years, books, journals and annual accounts 10 years,
 * business letters 6 years; every period runs from the end of the calendar year in which the
 * document was made (HGB § 257(4), (5); AO § 147(3), (4); UStG § 14b(1)). Longer while an open tax
 * assessment needs them (AO § 147(3) sentence 5): staff then hold the purge.
 */
export const RETENTION_PERIODS = {
  invoices: { years: 8, basis: 'HGB § 257(4), AO § 147(3), UStG § 14b(1)' },
  booking_vouchers: { years: 8, basis: 'HGB § 257(1) Nr. 4, (4); AO § 147(1) Nr. 4, (3)' },
  books: { years: 10, basis: 'HGB § 257(1) Nr. 1, (4); AO § 147(1) Nr. 1, (3)' },
  business_letters: { years: 6, basis: 'HGB § 257(1) Nr. 2, 3, (4); AO § 147(1) Nr. 2, 3, (3)' },
} as const
export type RetentionKind = keyof typeof RETENTION_PERIODS

export const RETENTION_ZONE = 'Europe/Berlin'

/** The first moment a document made at `madeAt` may be deleted: 1 January after the period's last year. */
export function retainedUntil(kind: RetentionKind, madeAt: DateTime): DateTime {
  const year = madeAt.setZone(RETENTION_ZONE).year
  return DateTime.fromObject(
    { year: year + RETENTION_PERIODS[kind].years + 1, month: 1, day: 1 },
    { zone: RETENTION_ZONE }
  )
}

/** The latest calendar year of issue whose documents of `kind` may be deleted at `now`. */
export function lastExpiredYear(kind: RetentionKind, now: DateTime): number {
  return now.setZone(RETENTION_ZONE).year - RETENTION_PERIODS[kind].years - 1
}
