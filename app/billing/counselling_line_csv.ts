import { e164Digits } from '#core/e164'
import { records } from '#billing/price_list_csv'

/**
 * The Federal Network Agency's list of counselling lines (TDDDG § 11(2)) as CSV: a header line, then
 * one line per number. Comma or semicolon (German spreadsheets write the latter), UTF-8 with or
 * without BOM. The number column is called number/rufnummer/telefonnummer; the optional name column
 * name/organisation/bezeichnung/beratungsstelle/einrichtung. Numbers in any usual form: "+49 800
 * 1110111", "0049 800 …", "0800 111 0 111" (German), "116 123" (harmonised European service).
 */
export const MAX_COUNSELLING_ROWS = 50_000

const NUMBER_COLUMNS = ['number', 'rufnummer', 'telefonnummer', 'nummer']
const NAME_COLUMNS = ['name', 'organisation', 'bezeichnung', 'beratungsstelle', 'einrichtung']

export interface CounsellingLineRow {
  number: string
  name: string
}

export interface CounsellingProblem {
  line: number
  /** billing.counselling.errors.<code> */
  code: 'quote' | 'header' | 'empty' | 'too_many' | 'columns' | 'number' | 'formula' | 'name'
}

export interface CounsellingParse {
  /** Data lines read (blank lines not counted). */
  read: number
  /** Distinct numbers accepted (a number listed twice counts once). */
  lines: CounsellingLineRow[]
  problems: CounsellingProblem[]
}

/** What a spreadsheet would run as a formula; "+49 …" is a number, not a formula. */
const FORMULA = /^[=+\-@\t\r]/

function number(cell: string): string | null {
  const compact = cell.replace(/[\s\-/().]/g, '')
  if (/^116\d{3}$/.test(compact)) return `49${compact}`
  return e164Digits(cell, { country: 'DE' })
}

export function parseCounsellingCsv(text: string): CounsellingParse {
  const clean = text.replace(/^\uFEFF/, '')
  const firstLine = clean.split(/\r?\n/, 1)[0] ?? ''
  const delimiter = firstLine.includes(';') && !firstLine.includes(',') ? ';' : ','
  const rows = records(clean, delimiter)
  if (!rows) return { read: 0, lines: [], problems: [{ line: 0, code: 'quote' }] }
  // Keep the file's line numbers: blank records are skipped, not removed
  const numbered = rows
    .map((row, index) => ({ row, line: index + 1 }))
    .filter(({ row }) => row.some((value) => value.trim() !== ''))
  const head = numbered.shift()
  const header = head?.row.map((value) => value.trim().toLowerCase()) ?? []
  const numberAt = header.findIndex((value) => NUMBER_COLUMNS.includes(value))
  const nameAt = header.findIndex((value) => NAME_COLUMNS.includes(value))
  if (!head || numberAt < 0)
    return { read: 0, lines: [], problems: [{ line: head?.line ?? 1, code: 'header' }] }
  if (!numbered.length)
    return { read: 0, lines: [], problems: [{ line: head.line, code: 'empty' }] }
  if (numbered.length > MAX_COUNSELLING_ROWS)
    return {
      read: numbered.length,
      lines: [],
      problems: [{ line: numbered[MAX_COUNSELLING_ROWS].line, code: 'too_many' }],
    }

  const byNumber = new Map<string, CounsellingLineRow>()
  const problems: CounsellingProblem[] = []
  for (const { row, line } of numbered) {
    if (row.length <= Math.max(numberAt, nameAt)) {
      problems.push({ line, code: 'columns' })
      continue
    }
    const rawNumber = row[numberAt].trim()
    const name = nameAt >= 0 ? row[nameAt].trim() : ''
    const digits = number(rawNumber)
    if (row.some((value, index) => FORMULA.test(value.trim()) && !(index === numberAt && digits))) {
      problems.push({ line, code: 'formula' })
      continue
    }
    if (!digits) {
      problems.push({ line, code: 'number' })
      continue
    }
    if (name.length > 200) {
      problems.push({ line, code: 'name' })
      continue
    }
    if (!byNumber.has(digits)) byNumber.set(digits, { number: digits, name })
  }
  return { read: numbered.length, lines: [...byNumber.values()], problems }
}
