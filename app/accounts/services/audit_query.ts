import { DateTime } from 'luxon'
import AuditEntry from '#accounts/models/audit_entry'
import { sqlTime } from '#core/sql_time'

export interface AuditFilters {
  action?: string
  actor?: string
  companyId?: number
  from?: string
  to?: string
  page?: number
}

/** Reads the audit log with the filters of the admin and customer pages. */
export default class AuditQuery {
  async search(filters: AuditFilters, perPage = 50) {
    const query = AuditEntry.query().orderBy('created_at', 'desc').orderBy('id', 'desc')
    if (filters.action) query.where('action', 'like', `${filters.action}%`)
    if (filters.actor) query.where('actor_email', 'like', `%${filters.actor.toLowerCase()}%`)
    if (filters.companyId) query.where('company_id', filters.companyId)
    const from = filters.from ? DateTime.fromISO(filters.from, { zone: 'utc' }) : null
    const to = filters.to ? DateTime.fromISO(filters.to, { zone: 'utc' }) : null
    if (from?.isValid) query.where('created_at', '>=', sqlTime(from))
    if (to?.isValid) query.where('created_at', '<', sqlTime(to.plus({ days: 1 })))
    return query.paginate(Math.max(1, filters.page ?? 1), perPage)
  }
}
