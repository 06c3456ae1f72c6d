import { microToCents } from '#billing/tariff_arithmetic'
import type { VatRule } from '#billing/vat_rules'

/**
 * The sums of an invoice, kept free of the database. Rounding rule (continues tariff_arithmetic.ts):
 * 3. An invoice line sums the exact amounts of its calls or fees in 1/10,000 cent and is rounded
 *    half up (away from zero for negative lines) to whole cents ONCE: BT-131 is that amount.
 * 4. Per VAT category and rate, the basis is the sum of the rounded line amounts (BR-CO-10/-S-08),
 *    the VAT is basis × rate rounded half up to cents once (BR-CO-17); the invoice's VAT is the sum
 *    of those (BR-CO-14), its gross net + VAT (BR-CO-15). No amount is ever taken from a float.
 */
export interface DraftLine {
  kind: 'calls' | 'seats' | 'numbers'
  description: string
  quantity: number
  netMicro: number
}

export interface PricedLine extends DraftLine {
  position: number
  netCents: number
  vatCategory: VatRule['category']
  vatRateBp: number
}

export interface VatBreakdown {
  category: VatRule['category']
  rateBp: number
  basisCents: number
  vatCents: number
}

export interface InvoiceTotals {
  lines: PricedLine[]
  breakdown: VatBreakdown[]
  netCents: number
  vatCents: number
  grossCents: number
}

/** basis × rate (hundredths of a percent) in whole cents, half up, away from zero when negative. */
export function vatAmount(basisCents: number, rateBp: number): number {
  const sign = basisCents < 0 ? -1n : 1n
  const product = BigInt(Math.abs(basisCents)) * BigInt(rateBp)
  return Number(sign * ((product + 5_000n) / 10_000n))
}

export function priceLines(drafts: DraftLine[], rule: VatRule): InvoiceTotals {
  const lines = drafts.map((draft, index) => ({
    ...draft,
    position: index + 1,
    netCents: microToCents(draft.netMicro),
    vatCategory: rule.category,
    vatRateBp: rule.rateBp,
  }))
  const groups = new Map<string, VatBreakdown>()
  for (const line of lines) {
    const key = `${line.vatCategory}:${line.vatRateBp}`
    const group = groups.get(key) ?? {
      category: line.vatCategory,
      rateBp: line.vatRateBp,
      basisCents: 0,
      vatCents: 0,
    }
    group.basisCents += line.netCents
    groups.set(key, group)
  }
  const breakdown = [...groups.values()].map((group) => ({
    ...group,
    vatCents: vatAmount(group.basisCents, group.rateBp),
  }))
  const netCents = lines.reduce((sum, line) => sum + line.netCents, 0)
  const vatCents = breakdown.reduce((sum, group) => sum + group.vatCents, 0)
  return { lines, breakdown, netCents, vatCents, grossCents: netCents + vatCents }
}

/** 12345 → "123.45" for XML (BT amounts: two decimals, dot). */
export function centsToDecimal(cents: number): string {
  const sign = cents < 0 ? '-' : ''
  const absolute = Math.abs(cents)
  return `${sign}${Math.floor(absolute / 100)}.${String(absolute % 100).padStart(2, '0')}`
}
