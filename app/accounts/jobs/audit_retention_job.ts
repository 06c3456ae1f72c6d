import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { Job } from '#core/queue/types'
import { sqlTime } from '#core/sql_time'
import { retentionDeleted } from '#core/metrics/job_metrics'
import { AUDIT_IP_FULL_DAYS, AUDIT_RETENTION_MONTHS } from '#accounts/personal_data'

/** Shortens an IP to its network: IPv4 /24, IPv6 /48. */
export function shortenIp(ip: string) {
  if (ip.includes(':')) {
    const mapped = ip.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i)
    if (mapped) return shortenIp(mapped[1])
    const [head] = ip.split('::')
    const groups = head.split(':').filter(Boolean)
    return `${groups.slice(0, 3).join(':')}::`
  }
  const parts = ip.split('.')
  return parts.length === 4 ? `${parts.slice(0, 3).join('.')}.0` : ip
}

/**
 * The only writer besides AuditLog.record: shortens IPs after 7 days and deletes entries past the
 * declared retention.
 */
export default class AuditRetentionJob implements Job<{}> {
  readonly name = 'accounts.audit_retention'

  async handle() {
    const now = DateTime.utc()
    const deleted = await db
      .from('audit_entries')
      .where('created_at', '<', sqlTime(now.minus({ months: AUDIT_RETENTION_MONTHS })))
      .delete()
    retentionDeleted('audit_entries', Number(deleted) || 0)

    const due = await db
      .from('audit_entries')
      .where('ip_shortened', false)
      .whereNotNull('ip')
      .where('created_at', '<', sqlTime(now.minus({ days: AUDIT_IP_FULL_DAYS })))
      .select('id', 'ip')
    for (const row of due) {
      await db.from('audit_entries').where('id', row.id).update({ ip: shortenIp(row.ip), ip_shortened: true })
    }
  }
}
