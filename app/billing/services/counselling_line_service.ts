import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import { sqlTime } from '#core/sql_time'
import { forgetCounsellingNumbers } from '#billing/counselling_lines'
import { parseCounsellingCsv, type CounsellingParse } from '#billing/counselling_line_csv'

interface Actor {
  actor: User
  ip: string
}

export interface CounsellingImport extends CounsellingParse {
  /** True when the table now holds the file's numbers; false when nothing was replaced. */
  replaced: boolean
}

/**
 * The counselling line list (TDDDG § 11(2)): an import replaces the whole list in one transaction,
 * and only a file without a single refused line does: a half-imported list would let a number the
 * agency lists onto an itemised list, so a bad line keeps the old list and names the line.
 */
export default class CounsellingLineService {
  async list() {
    return db.from('counselling_lines').orderBy('number').select('*')
  }

  async summary() {
    const rows = await db
      .from('counselling_lines')
      .groupBy('source')
      .select('source')
      .count('* as total')
      .max('imported_at as imported_at')
    return rows.map((row) => ({
      source: String(row.source),
      total: Number(row.total),
      importedAt:
        row.imported_at instanceof Date
          ? DateTime.fromJSDate(row.imported_at)
          : DateTime.fromSQL(String(row.imported_at), { zone: 'utc' }),
    }))
  }

  async importCsv(
    text: string,
    source: string,
    { actor, ip }: Actor,
    now = DateTime.utc()
  ): Promise<CounsellingImport> {
    const parsed = parseCounsellingCsv(text)
    if (parsed.problems.length || !parsed.lines.length) return { ...parsed, replaced: false }
    await db.transaction(async (trx) => {
      await trx.from('counselling_lines').delete()
      const importedAt = sqlTime(now)
      for (let start = 0; start < parsed.lines.length; start += 500)
        await trx.table('counselling_lines').multiInsert(
          parsed.lines.slice(start, start + 500).map((line) => ({
            number: line.number,
            name: line.name,
            source,
            imported_at: importedAt,
          }))
        )
    })
    forgetCounsellingNumbers()
    await AuditLog.record({
      action: 'billing.counselling_lines.imported',
      actor,
      companyId: null,
      target: { type: 'counselling_lines', id: 'all' },
      details: { source, read: parsed.read, numbers: parsed.lines.length },
      ip,
    })
    return { ...parsed, replaced: true }
  }
}
