import db from '@adonisjs/lucid/services/db'

/**
 * Numbers of counselling lines that never appear on an itemised list (TDDDG § 11(2)): the Federal
 * Network Agency keeps the binding list (persons, authorities and organisations in social or church
 * counselling with a duty of confidentiality) and gives it to providers; staff import it on
 * /admin/billing/counselling-lines (table counselling_lines, E.164 digits without "+").
 *
 * Held in memory: an import forgets it on this node, other nodes read the table again within
 * RELOAD_MS.
 */
const RELOAD_MS = 5 * 60_000

let cached: { numbers: Set<string>; loadedAt: number } | null = null

export async function counsellingNumbers(now = Date.now()): Promise<Set<string>> {
  if (!cached || now - cached.loadedAt > RELOAD_MS) {
    const rows = await db.from('counselling_lines').select('number')
    cached = { numbers: new Set(rows.map((row) => String(row.number))), loadedAt: now }
  }
  return cached.numbers
}

/** After an import (and in tests after a rolled-back one): the next itemised list reads the table. */
export function forgetCounsellingNumbers() {
  cached = null
}

export async function isCounsellingLine(digits: string | null): Promise<boolean> {
  return digits !== null && (await counsellingNumbers()).has(digits)
}
