import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { Job } from '#core/queue/types'
import { sqlTime } from '#core/sql_time'
import { retentionDeleted } from '#core/metrics/job_metrics'
import { INFORMATION_REQUEST_RETENTION_MONTHS } from '#privacy/personal_data'

/**
 * Deletes answered information requests once the declared retention after the answer has passed.
 * Open requests stay: they are still owed an answer.
 */
export default class InformationRequestRetentionJob implements Job<{}> {
  readonly name = 'privacy.information_request_retention'

  async handle() {
    const cutoff = DateTime.utc().minus({ months: INFORMATION_REQUEST_RETENTION_MONTHS })
    const deleted = await db
      .from('information_requests')
      .where('status', 'answered')
      .where('handled_at', '<', sqlTime(cutoff))
      .delete()
    retentionDeleted('information_requests', Number(deleted) || 0)
  }
}
