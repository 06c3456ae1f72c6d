import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { Job } from '#core/queue/types'
import { sqlTime } from '#core/sql_time'
import { retentionDeleted } from '#core/metrics/job_metrics'
import {
  DATA_BREACH_RETENTION_YEARS,
  DATA_SUBJECT_REQUEST_RETENTION_YEARS,
} from '#privacy/personal_data'

/**
 * Deletes expired export archives, spent or expired e-mail change links (a day later), and closed
 * data-subject requests and closed breach records (their notices cascade) after the declared years.
 * Open requests and records stay: they are still owed an answer or a report.
 */
export default class DataSubjectRequestRetentionJob implements Job<{ now?: string }> {
  readonly name = 'privacy.data_subject_request_retention'

  async handle({ now: at }: { now?: string } = {}) {
    const now = at ? DateTime.fromISO(at) : DateTime.utc()
    const archives = await db
      .from('data_export_archives')
      .where('expires_at', '<', sqlTime(now))
      .delete()
    retentionDeleted('data_export_archives', Number(archives) || 0)
    const dayAgo = sqlTime(now.minus({ days: 1 }))
    const tokens = await db
      .from('email_change_tokens')
      .where((query) => query.where('expires_at', '<', dayAgo).orWhere('used_at', '<', dayAgo))
      .delete()
    retentionDeleted('email_change_tokens', Number(tokens) || 0)
    const requests = await db
      .from('data_subject_requests')
      .whereNot('status', 'open')
      .where('closed_at', '<', sqlTime(now.minus({ years: DATA_SUBJECT_REQUEST_RETENTION_YEARS })))
      .delete()
    retentionDeleted('data_subject_requests', Number(requests) || 0)
    const breaches = await db
      .from('data_breaches')
      .whereNotNull('closed_at')
      .where('closed_at', '<', sqlTime(now.minus({ years: DATA_BREACH_RETENTION_YEARS })))
      .delete()
    retentionDeleted('data_breaches', Number(breaches) || 0)
  }
}
