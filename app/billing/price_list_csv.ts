import { CENT_AMOUNT, centsForFile, parseCents } from '#billing/amounts'
import {
  BILLING_INCREMENTS,
  parseIncrement,
  type BillingIncrement,
} from '#billing/tariff_arithmetic'

/**
 * A price list version as CSV (RFC 4180, comma, UTF-8): one destination per line, amounts in cents
 * with a dot. Cells that a spreadsheet would run as a formula (= + - @, tab, CR) are written with a
 * leading apostrophe, which the import takes off again.
 */
export const CSV_HEADER = [
  'prefix',
  'destination',
  'price_ct_per_minute',
  'connection_fee_ct',
  'increment',
] as const
export const MAX_CSV_ROWS = 20_000

export interface CsvRate {
  prefix: string
  destination: string
  pricePerMinute: number
  connectionFee: number
  firstInterval: number
  nextInterval: number
}

export interface CsvProblem {
  line: number
  /** billing.csv.errors.<code> */
  code:
    | 'header'
    | 'columns'
    | 'prefix'
    | 'destination'
    | 'price'
    | 'fee'
    | 'increment'
    | 'duplicate'
    | 'too_many'
    | 'quote'
}

function cell(value: string) {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

export function toCsv(rates: CsvRate[]): string {
  const lines = [CSV_HEADER.join(',')]
  for (const rate of rates) {
    lines.push(
      [
        rate.prefix,
        rate.destination,
        centsForFile(rate.pricePerMinute),
        centsForFile(rate.connectionFee),
        `${rate.firstInterval}/${rate.nextInterval}`,
      ]
        .map(cell)
        .join(',')
    )
  }
  return lines.join('\r\n') + '\r\n'
}

/** Splits RFC 4180 text into records of cells; null when a quote is left open. */
export function records(text: string, delimiter = ','): string[][] | null {
  const rows: string[][] = []
  let row: string[] = []
  let value = ''
  let quoted = false
  for (let index = 0; index < text.length; index++) {
    const char = text[index]
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') ((value += '"'), index++)
      else if (char === '"') quoted = false
      else value += char
    } else if (char === '"' && value === '') quoted = true
    else if (char === delimiter) (row.push(value), (value = ''))
    else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[index + 1] === '\n') index++
      ;(row.push(value), rows.push(row), (row = []), (value = ''))
    } else value += char
  }
  if (quoted) return null
  if (value !== '' || row.length) (row.push(value), rows.push(row))
  return rows
}

const unescape = (value: string) => (/^'[=+\-@\t\r]/.test(value) ? value.slice(1) : value)

/** Reads a whole file; any problem refuses the whole file (a price list is never half imported). */
export function parseCsv(text: string): { rates: CsvRate[]; problems: CsvProblem[] } {
  const rows = records(text.replace(/^\uFEFF/, ''))
  if (!rows) return { rates: [], problems: [{ line: 0, code: 'quote' }] }
  const content = rows.filter((row) => row.some((value) => value.trim() !== ''))
  const header = content.shift()?.map((value) => value.trim().toLowerCase())
  if (!header || header.join(',') !== CSV_HEADER.join(','))
    return { rates: [], problems: [{ line: 1, code: 'header' }] }
  if (content.length > MAX_CSV_ROWS)
    return { rates: [], problems: [{ line: MAX_CSV_ROWS + 2, code: 'too_many' }] }

  const rates: CsvRate[] = []
  const problems: CsvProblem[] = []
  const seen = new Set<string>()
  content.forEach((row, index) => {
    const line = index + 2
    if (row.length !== CSV_HEADER.length) return problems.push({ line, code: 'columns' })
    const [prefix, destination, price, fee, increment] = row.map((value) => unescape(value.trim()))
    if (!/^\d{0,15}$/.test(prefix)) return problems.push({ line, code: 'prefix' })
    if (seen.has(prefix)) return problems.push({ line, code: 'duplicate' })
    if (!destination || destination.length > 80) return problems.push({ line, code: 'destination' })
    if (!CENT_AMOUNT.test(price)) return problems.push({ line, code: 'price' })
    if (!CENT_AMOUNT.test(fee)) return problems.push({ line, code: 'fee' })
    if (!(BILLING_INCREMENTS as readonly string[]).includes(increment))
      return problems.push({ line, code: 'increment' })
    seen.add(prefix)
    const { first, next } = parseIncrement(increment as BillingIncrement)
    rates.push({
      prefix,
      destination,
      pricePerMinute: parseCents(price)!,
      connectionFee: parseCents(fee)!,
      firstInterval: first,
      nextInterval: next,
    })
  })
  return { rates, problems }
}
