import { MICRO_PER_CENT } from '#billing/tariff_arithmetic'

/**
 * Amounts as staff type and read them: cents with up to four decimals ("0,89" or "0.89" ct), stored
 * as integers in 1/10,000 cent. Parsing is done on the digits, never through floats.
 */
export const CENT_AMOUNT = /^\d{1,7}(?:[.,]\d{1,4})?$/

/** "0,89" → 8,900; "12" → 120,000; anything else → null. */
export function parseCents(input: string): number | null {
  const value = input.trim()
  if (!CENT_AMOUNT.test(value)) return null
  const [whole, fraction = ''] = value.split(/[.,]/)
  return Number(whole) * MICRO_PER_CENT + Number(fraction.padEnd(4, '0'))
}

/** 8,900 → "0,89" (de) / "0.89" (en): at least two decimals, up to four, never rounded away. */
export function formatCents(micro: number, locale: string): string {
  const negative = micro < 0
  const absolute = Math.abs(micro)
  const whole = Math.floor(absolute / MICRO_PER_CENT)
  const fraction = String(absolute % MICRO_PER_CENT)
    .padStart(4, '0')
    .replace(/0{1,2}$/, '')
  const separator = locale.startsWith('de') ? ',' : '.'
  const grouped = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(whole)
  return `${negative ? '-' : ''}${grouped}${separator}${fraction}`
}

/** The same amount for CSV files: dot decimal, no grouping ("0.89"). */
export function centsForFile(micro: number): string {
  return formatCents(micro, 'en').replace(/,/g, '')
}

/** Whole cents as euros for pages: 41800 → "418,00" (de) / "418.00" (en), grouped. */
export function formatEuros(cents: number, locale: string): string {
  return new Intl.NumberFormat(locale, {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  }).format(cents / 100)
}
