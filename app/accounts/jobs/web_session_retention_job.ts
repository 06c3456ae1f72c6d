import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { Job } from '#core/queue/types'
import { sqlTime } from '#core/sql_time'
import { retentionDeleted } from '#core/metrics/job_metrics'
import { WEB_SESSION_RETENTION_DAYS } from '#accounts/personal_data'

/**
 * Deletes session-list entries 7 days after their session ended or expired (the user can still
 * see a revoked session in the audit log), and store rows of expired sessions.
 */
export default class WebSessionRetentionJob implements Job<{}> {
  readonly name = 'accounts.web_session_retention'

  constructor(private readonly now: () => DateTime = () => DateTime.utc()) {}

  async handle() {
    const now = this.now()
    const cutoff = sqlTime(now.minus({ days: WEB_SESSION_RETENTION_DAYS }))
    const entries = await db
      .from('web_sessions')
      .where((query) => query.where('ended_at', '<', cutoff).orWhere('expires_at', '<', cutoff))
      .delete()
    retentionDeleted('web_sessions', Number(entries) || 0)
    // The database store compares its expiry as a JS date (as its own garbage collection does).
    const stored = await db.from('sessions').where('expires_at', '<=', now.toJSDate()).delete()
    retentionDeleted('sessions', Number(stored) || 0)
  }
}
