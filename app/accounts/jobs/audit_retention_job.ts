import { createHmac } from 'node:crypto'
import { DateTime } from 'luxon'
import env from '#start/env'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
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
 * What is left of an address typed into a failed login after 7 days: its domain and a keyed hash
 * (HMAC-SHA256 with APP_KEY, 16 hex digits), enough to see repeated attempts on one address
 * without keeping the address itself (which may be a mistyped address of anyone).
 */
export function shortenEmail(email: string, key: string = env.get('APP_KEY').release()) {
  const normalised = email.trim().toLowerCase()
  const at = normalised.lastIndexOf('@')
  const domain = at === -1 ? null : normalised.slice(at + 1)
  const hash = createHmac('sha256', key)
    .update(`audit-email:${normalised}`)
    .digest('hex')
    .slice(0, 16)
  return { emailDomain: domain, emailHash: hash }
}

/**
 * The only writer besides AuditLog.record: shortens IPs and the addresses typed into failed logins
 * after 7 days and deletes entries past the declared retention.
 */
export default class AuditRetentionJob implements Job<{}> {
  readonly name = 'accounts.audit_retention'

  async handle() {
    // On PostgreSQL the audit log refuses changes (migration 0851) unless this job declares itself
    await db.transaction(async (trx) => {
      if (trx.dialect.name === 'postgres')
        await trx.rawQuery(`set local fluffycall.audit_retention = 'on'`)
      await this.#run(trx)
    })
  }

  async #run(trx: TransactionClientContract) {
    const now = DateTime.utc()
    const deleted = await trx
      .from('audit_entries')
      .where('created_at', '<', sqlTime(now.minus({ months: AUDIT_RETENTION_MONTHS })))
      .delete()
    retentionDeleted('audit_entries', Number(deleted) || 0)

    const due = await trx
      .from('audit_entries')
      .where('ip_shortened', false)
      .whereNotNull('ip')
      .where('created_at', '<', sqlTime(now.minus({ days: AUDIT_IP_FULL_DAYS })))
      .select('id', 'ip')
    for (const row of due) {
      await trx
        .from('audit_entries')
        .where('id', row.id)
        .update({ ip: shortenIp(row.ip), ip_shortened: true })
    }

    // Failed logins for unknown accounts keep the typed address in `details.email` (LoginService).
    const typed = await trx
      .from('audit_entries')
      .where('action', 'auth.login.failed')
      .where('details', 'like', '%"email"%')
      .where('created_at', '<', sqlTime(now.minus({ days: AUDIT_IP_FULL_DAYS })))
      .select('id', 'details')
    for (const row of typed) {
      const details = JSON.parse(row.details) as Record<string, unknown>
      if (typeof details.email !== 'string') continue
      const { email, ...rest } = details
      await trx
        .from('audit_entries')
        .where('id', row.id)
        .update({ details: JSON.stringify({ ...rest, ...shortenEmail(email as string) }) })
    }
  }
}
