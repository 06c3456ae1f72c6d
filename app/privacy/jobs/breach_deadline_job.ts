import { DateTime } from 'luxon'
import alerts from '#core/services/alerts'
import type { Job } from '#core/queue/types'
import DataBreach from '#privacy/models/data_breach'

export interface BreachDeadlinePayload {
  /** ISO time to decide against (tests); now otherwise. */
  now?: string
}

/** Warn this long before the 72 hours end; critical once they have. */
const WARN_HOURS = 24

/**
 * Raises an alert for every open breach whose report to the authority is due within a day
 * (warning) or overdue (critical), and clears it once the report is noted or the record closed.
 * The alert's figures hold the record number and the deadline, never the breach's text.
 */
export default class BreachDeadlineJob implements Job<BreachDeadlinePayload> {
  readonly name = 'privacy.breach_deadline'

  async handle(payload: BreachDeadlinePayload = {}) {
    const now = payload.now ? DateTime.fromISO(payload.now) : DateTime.utc()
    const breaches = await DataBreach.query().where((query) =>
      query.where('status', 'open').orWhereNotNull('authority_notified_at')
    )
    for (const breach of breaches) {
      const key = `privacy_breach_deadline:${breach.id}`
      const pending =
        breach.status === 'open' && breach.reportsToAuthority && !breach.authorityNotifiedAt
      if (!pending) {
        await alerts.clear(key)
        continue
      }
      const hoursLeft = Math.floor(breach.authorityDueAt.diff(now, 'hours').hours)
      if (hoursLeft > WARN_HOURS) continue
      await alerts.raise(
        key,
        hoursLeft < 0 ? 'critical' : 'warning',
        {
          breach: breach.id,
          due: breach.authorityDueAt.setZone('Europe/Berlin').toFormat('yyyy-LL-dd HH:mm'),
          hoursLeft,
        },
        { kind: 'privacy_breach_deadline' }
      )
    }
  }
}
