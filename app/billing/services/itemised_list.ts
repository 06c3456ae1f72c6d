import { DateTime } from 'luxon'
import { PDFDocument, StandardFonts, rgb } from 'pdf-lib'
import db from '@adonisjs/lucid/services/db'
import { sqlTime } from '#core/sql_time'
import type Company from '#accounts/models/company'
import invoicingConfig from '#config/invoicing'
import { e164Digits } from '#billing/tariff_arithmetic'
import { counsellingNumbers } from '#billing/counselling_lines'
import { monthBounds, FEE_TIME_ZONE, type BillingMonth } from '#billing/monthly_fees'
import { formatCents } from '#billing/amounts'

export interface ItemisedCall {
  startedAt: DateTime
  number: string
  durationSeconds: number
  costMicro: number
}

/** 4930123456 → "+4930123xxx": the last three digits hidden (TDDDG § 11(1)). */
export function shortenDigits(number: string) {
  return /^\+\d{6,}$/.test(number) ? `${number.slice(0, -3)}xxx` : number
}

/**
 * The itemised list (Einzelverbindungsnachweis, TDDDG § 11), a document apart from the invoice: it
 * is rendered from the CDRs when asked for and never stored, so it goes when they go (6 months,
 * calls' retention job) and nothing of it lands in the 8-year invoice archive. The company's
 * itemised_numbers decides: full numbers, shortened by three digits, or no list at all; calls to
 * counselling lines never appear (§ 11(2)).
 */
export default class ItemisedList {
  async calls(company: Company, month: BillingMonth): Promise<ItemisedCall[] | null> {
    if (company.itemisedNumbers === 'none') return null
    const { start, end } = monthBounds(month)
    const rows = await db
      .from('call_records')
      .where('company_id', company.id)
      .where('direction', 'outbound')
      .whereNotNull('answered_at')
      .where('started_at', '>=', sqlTime(start))
      .where('started_at', '<', sqlTime(end))
      .select('started_at', 'callee_number', 'duration_seconds', 'cost_micro')
      .orderBy('started_at')
    const counselling = await counsellingNumbers()
    return rows
      .filter((row) => {
        const digits = e164Digits(row.callee_number)
        return digits === null || !counselling.has(digits)
      })
      .map((row) => {
        const number = String(row.callee_number ?? '')
        return {
          startedAt:
            row.started_at instanceof Date
              ? DateTime.fromJSDate(row.started_at)
              : DateTime.fromSQL(String(row.started_at), { zone: 'utc' }),
          number: company.itemisedNumbers === 'full' ? number : shortenDigits(number),
          durationSeconds: Number(row.duration_seconds ?? 0),
          costMicro: Number(row.cost_micro ?? 0),
        }
      })
  }

  async pdf(company: Company, month: BillingMonth, calls: ItemisedCall[]): Promise<Uint8Array> {
    const pdf = await PDFDocument.create()
    const font = await pdf.embedFont(StandardFonts.Helvetica)
    const bold = await pdf.embedFont(StandardFonts.HelveticaBold)
    let page = pdf.addPage([595.28, 841.89])
    let y = 800
    const text = (
      value: string,
      x: number,
      options: { bold?: boolean; right?: boolean; size?: number } = {}
    ) => {
      const size = options.size ?? 9
      const face = options.bold ? bold : font
      page.drawText(value, {
        x: options.right ? x - face.widthOfTextAtSize(value, size) : x,
        y,
        size,
        font: face,
        color: rgb(0.1, 0.1, 0.1),
      })
    }
    const period = `${String(month.month).padStart(2, '0')}/${month.year}`
    text(`Einzelverbindungsnachweis ${period}`, 50, { bold: true, size: 14 })
    y -= 18
    text(`${company.displayName} · ${invoicingConfig.seller.name}`, 50)
    y -= 13
    text(
      company.itemisedNumbers === 'full'
        ? 'Zielrufnummern vollständig'
        : 'Zielrufnummern um die letzten drei Ziffern gekürzt',
      50,
      { size: 8 }
    )
    y -= 11
    text(
      'Verbindungen zu Beratungsstellen (§ 11 Abs. 2 TDDDG) werden nicht aufgeführt. Kein Bestandteil der Rechnung.',
      50,
      { size: 8 }
    )
    y -= 20
    const header = () => {
      text('Beginn', 50, { bold: true })
      text('Zielrufnummer', 170, { bold: true })
      text('Dauer', 400, { bold: true, right: true })
      text('Preis (ct)', 545, { bold: true, right: true })
      y -= 13
    }
    header()
    for (const call of calls) {
      if (y < 60) {
        page = pdf.addPage([595.28, 841.89])
        y = 800
        header()
      }
      const seconds = call.durationSeconds
      text(call.startedAt.setZone(FEE_TIME_ZONE).toFormat('dd.LL.yyyy HH:mm:ss'), 50)
      text(call.number, 170)
      text(`${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`, 400, {
        right: true,
      })
      text(formatCents(call.costMicro, 'de'), 545, { right: true })
      y -= 12
    }
    if (!calls.length) text('Keine Verbindungen in diesem Monat.', 50)
    return pdf.save()
  }
}
