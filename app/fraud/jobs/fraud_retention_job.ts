import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { Job } from '#core/queue/types'
import { sqlTime } from '#core/sql_time'
import { FRAUD_CASE_RETENTION_YEARS, FRAUD_SIGNAL_RETENTION_MONTHS } from '#fraud/personal_data'

/**
 * Deletes fraud evidence once its declared retention has passed (app/fraud/personal_data.ts):
 * expired Wangiri flags, decided review cases, and signals no open case still needs.
 */
export default class FraudRetentionJob implements Job<{}> {
  readonly name = 'fraud.retention'

  async handle(_payload: {} = {}, now = DateTime.utc()) {
    await db.from('fraud_flagged_numbers').where('flagged_until', '<', sqlTime(now)).delete()
    await db
      .from('fraud_review_cases')
      .whereNot('status', 'open')
      .where('decided_at', '<', sqlTime(now.minus({ years: FRAUD_CASE_RETENTION_YEARS })))
      .delete()
    await db
      .from('fraud_signals')
      .where('created_at', '<', sqlTime(now.minus({ months: FRAUD_SIGNAL_RETENTION_MONTHS })))
      .whereNotIn(
        'company_id',
        db.from('fraud_review_cases').where('status', 'open').select('company_id')
      )
      .delete()
    // Signals of no company (failed logins of unknown accounts) are never part of a case.
    await db
      .from('fraud_signals')
      .whereNull('company_id')
      .where('created_at', '<', sqlTime(now.minus({ months: FRAUD_SIGNAL_RETENTION_MONTHS })))
      .delete()
  }
}
