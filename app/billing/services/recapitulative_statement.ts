import db from '@adonisjs/lucid/services/db'

/**
 * The Zusammenfassende Meldung (§ 18a UStG): per reporting period, each EU customer's VAT ID with
 * the sum of the net amounts of our reverse-charge services (§ 3a(2) UStG, "sonstige Leistungen",
 * kind S). The period is the one the services were performed in (§ 18a(8) Nr. 2 UStG), i.e. the
 * invoice's billing month, so a Stornorechnung nets out in the month it cancels. The amount per
 * VAT ID is summed in cents and rounded half up to whole euros, as BZSt expects.
 */
export type ReportingPeriod = { year: number; month: number } | { year: number; quarter: number }

export interface RecapitulativeRow {
  countryCode: string
  vatNumber: string
  amountEuros: number
  kind: 'S'
}

/** "2026-06" (month) or "2026-Q2" (quarter); null otherwise. */
export function parseReportingPeriod(value: string): ReportingPeriod | null {
  const month = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(value)
  if (month) return { year: Number(month[1]), month: Number(month[2]) }
  const quarter = /^(\d{4})-Q([1-4])$/.exec(value)
  return quarter ? { year: Number(quarter[1]), quarter: Number(quarter[2]) } : null
}

export function periodMonths(period: ReportingPeriod): number[] {
  if ('month' in period) return [period.month]
  const first = (period.quarter - 1) * 3 + 1
  return [first, first + 1, first + 2]
}

export default class RecapitulativeStatement {
  async rows(period: ReportingPeriod): Promise<RecapitulativeRow[]> {
    const sums = await db
      .from('invoices')
      .where('vat_treatment', 'reverse_charge')
      .where('period_year', period.year)
      .whereIn('period_month', periodMonths(period))
      .whereNotNull('buyer_vat_id')
      .groupBy('buyer_vat_id')
      .select('buyer_vat_id')
      .sum('net_cents as cents')
      .orderBy('buyer_vat_id')
    return sums
      .map((row) => {
        const vatId = String(row.buyer_vat_id)
        const cents = Number(row.cents)
        const sign = cents < 0 ? -1 : 1
        return {
          countryCode: vatId.slice(0, 2),
          vatNumber: vatId.slice(2),
          amountEuros: sign * Math.floor((Math.abs(cents) + 50) / 100),
          kind: 'S' as const,
        }
      })
      .filter((row) => row.amountEuros !== 0)
  }

  /** The BZSt CSV layout: country code, VAT number without it, amount in whole euros, kind of supply. */
  csv(rows: RecapitulativeRow[]): string {
    const lines = ['Laenderkennzeichen,USt-IdNr.,Betrag(EUR),Art der Leistung']
    for (const row of rows)
      lines.push([row.countryCode, row.vatNumber, String(row.amountEuros), row.kind].join(','))
    return `${lines.join('\r\n')}\r\n`
  }
}
