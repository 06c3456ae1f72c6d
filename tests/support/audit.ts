import db from '@adonisjs/lucid/services/db'
import AuditEntry from '#accounts/models/audit_entry'

/**
 * The newest audit entry id now. Tests look only at entries after their mark: the test database
 * may hold entries that other suites committed (and SQLite reuses user and company ids).
 */
export async function auditMark() {
  const row = await db.from('audit_entries').max('id as max').first()
  return Number(row?.max ?? 0)
}

/** Audit entries written after the mark. */
export function auditSince(mark: number) {
  return AuditEntry.query().where('id', '>', mark)
}
