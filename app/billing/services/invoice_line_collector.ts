import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { sqlTime } from '#core/sql_time'
import PriceList from '#billing/models/price_list'
import RatingService from '#billing/services/rating_service'
import { e164Digits, versionValidAt } from '#billing/tariff_arithmetic'
import { monthBounds, monthlyFees, type BillingMonth, type FeeItem } from '#billing/monthly_fees'
import type { DraftLine } from '#billing/invoice_arithmetic'

/**
 * What a company owes for a month, as draft lines with exact amounts in 1/10,000 cent: one line per
 * destination category from the month's rated CDRs (calls started in the month, Europe/Berlin),
 * and the monthly fees per seat and per number, pro rata (monthly_fees.ts).
 */
export default class InvoiceLineCollector {
  constructor(private rating = new RatingService()) {}

  async collect(
    companyId: number,
    month: BillingMonth
  ): Promise<{ lines: DraftLine[]; unpriced: number }> {
    const calls = await this.callLines(companyId, month)
    return {
      lines: [...calls.lines, ...(await this.feeLines(companyId, month))],
      unpriced: calls.unpriced,
    }
  }

  private async callLines(companyId: number, month: BillingMonth) {
    const { start, end } = monthBounds(month)
    const records = await db
      .from('call_records')
      .where('company_id', companyId)
      .where('started_at', '>=', sqlTime(start))
      .where('started_at', '<', sqlTime(end))
      .whereIn('rating', ['priced', 'unpriced'])
      .select('id', 'callee_number', 'started_at', 'cost_micro', 'duration_seconds', 'rating')
      .orderBy('id')
    const categories = new Map<string, { count: number; seconds: number; micro: number }>()
    const destinations = new Map<string, string>()
    let unpriced = 0
    for (const record of records) {
      if (record.rating !== 'priced' || record.cost_micro === null) {
        unpriced += 1
        continue
      }
      const digits = e164Digits(record.callee_number) ?? ''
      const startedAt =
        record.started_at instanceof Date
          ? DateTime.fromJSDate(record.started_at)
          : DateTime.fromSQL(String(record.started_at), { zone: 'utc' })
      const cacheKey = `${digits}@${startedAt.toISODate()}`
      let destination = destinations.get(cacheKey)
      if (destination === undefined) {
        const rate = await this.rating.rateFor(
          companyId,
          digits,
          startedAt.isValid ? startedAt : DateTime.fromISO(String(record.started_at))
        )
        destination = rate?.destination ?? 'Sonstige Ziele'
        destinations.set(cacheKey, destination)
      }
      const category = categories.get(destination) ?? { count: 0, seconds: 0, micro: 0 }
      category.count += 1
      category.seconds += Number(record.duration_seconds ?? 0)
      category.micro += Number(record.cost_micro)
      categories.set(destination, category)
    }
    const lines: DraftLine[] = [...categories.entries()]
      .sort(([a], [b]) => a.localeCompare(b, 'de'))
      .map(([destination, category]) => ({
        kind: 'calls',
        description:
          `Verbindungen ${destination}: ${category.count} Gespräche, ${Math.ceil(category.seconds / 60)} Min.`.slice(
            0,
            200
          ),
        quantity: category.count,
        netMicro: category.micro,
      }))
    return { lines, unpriced }
  }

  /** The fee valid on the month's first day: the company's override where it sets one, else the default. */
  async feesFor(companyId: number, month: BillingMonth) {
    const { start } = monthBounds(month)
    const lists = await PriceList.query()
      .where((query) => query.whereNull('company_id').orWhere('company_id', companyId))
      .preload('versions')
    const fees = { seat: 0, number: 0 }
    const ordered = [...lists].sort(
      (a, b) => Number(b.isDefault) - Number(a.isDefault) || a.id - b.id
    )
    for (const list of ordered) {
      const version = versionValidAt(start, list.versions)
      if (!version) continue
      if (version.seatFeePerMonth !== null) fees.seat = version.seatFeePerMonth
      if (version.numberFeePerMonth !== null) fees.number = version.numberFeePerMonth
    }
    return fees
  }

  private async feeLines(companyId: number, month: BillingMonth): Promise<DraftLine[]> {
    const toTime = (value: unknown) =>
      value === null || value === undefined
        ? null
        : value instanceof Date
          ? DateTime.fromJSDate(value)
          : DateTime.fromSQL(String(value), { zone: 'utc' })
    const users = await db
      .from('users')
      .where('company_id', companyId)
      .where('is_staff', false)
      .select('created_at', 'disabled_at')
    const numbers = await db
      .from('phone_numbers')
      .where('company_id', companyId)
      .select('assigned_at', 'created_at')
    const items: FeeItem[] = [
      ...users.map((user) => ({
        kind: 'seat' as const,
        from: toTime(user.created_at)!,
        until: toTime(user.disabled_at),
      })),
      ...numbers.map((number) => ({
        kind: 'number' as const,
        from: toTime(number.assigned_at ?? number.created_at)!,
        until: null,
      })),
    ]
    const totals = monthlyFees(month, await this.feesFor(companyId, month), items)
    const lines: DraftLine[] = []
    if (totals.seat.count)
      lines.push({
        kind: 'seats',
        description: `Nutzerplätze: ${totals.seat.count} (anteilig nach Tagen)`,
        quantity: totals.seat.count,
        netMicro: totals.seat.amount,
      })
    if (totals.number.count)
      lines.push({
        kind: 'numbers',
        description: `Rufnummern: ${totals.number.count} (anteilig nach Tagen)`,
        quantity: totals.number.count,
        netMicro: totals.number.amount,
      })
    return lines
  }
}
