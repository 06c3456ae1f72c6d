import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { DatabaseQueryBuilderContract } from '@adonisjs/lucid/types/querybuilder'
import type { Job } from '#core/queue/types'
import { sqlTime } from '#core/sql_time'
import { retentionDeleted } from '#core/metrics/job_metrics'
import callRecordHolds from '#core/call_record_holds'
import { purgeInBatches, realPurgeTimer, type PurgeTimer } from '#calls/services/purge_batches'
import {
  CALL_RECORD_RETENTION_MONTHS,
  DEVICE_ADDRESS_RETENTION_DAYS,
  WEB_PHONE_CREDENTIAL_GRACE_HOURS,
} from '#calls/personal_data'

/**
 * Deletes call metadata after the retention we promise (CDRs six months after the call started,
 * later while a billing dispute holds them)
 * and web phone logins a day after they expired or were revoked (kept that long so a support
 * question about a failed login can still be answered), and the addresses SIP phones registered
 * from 90 days after the last registration from there.
 *
 * A busy node has millions of CDRs: the rows go in batches sized by their measured time, so no
 * batch holds the event loop (SQLite) for more than PURGE_BATCH_BUDGET_MS, with a turn of the event
 * loop between batches (app/calls/services/purge_batches.ts; bench/cdr_purge.ts for PostgreSQL).
 */
export default class CallDataRetentionJob implements Job<{}> {
  readonly name = 'calls.call_data_retention'

  constructor(private timer: PurgeTimer = realPurgeTimer) {}

  async handle() {
    const now = DateTime.utc()
    // Records under a billing dispute stay until the hold is released (TDDDG § 10)
    const holds = await callRecordHolds.openHolds()
    await this.#deleteInBatches('call_records', (query) => {
      query.where('started_at', '<', sqlTime(now.minus({ months: CALL_RECORD_RETENTION_MONTHS })))
      for (const hold of holds)
        query.whereNot((held) =>
          held
            .where('company_id', hold.companyId)
            .whereBetween('started_at', [sqlTime(hold.from), sqlTime(hold.until)])
        )
      return query
    })
    const graceEnd = sqlTime(now.minus({ hours: WEB_PHONE_CREDENTIAL_GRACE_HOURS }))
    await this.#deleteInBatches('web_phone_credentials', (query) =>
      query.where((expired) =>
        expired.where('expires_at', '<', graceEnd).orWhere('revoked_at', '<', graceEnd)
      )
    )
    await this.#deleteInBatches('sip_device_addresses', (query) =>
      query.where(
        'last_registered_at',
        '<',
        sqlTime(now.minus({ days: DEVICE_ADDRESS_RETENTION_DAYS }))
      )
    )
  }

  async #deleteInBatches(
    table: string,
    due: (query: DatabaseQueryBuilderContract) => DatabaseQueryBuilderContract
  ) {
    await purgeInBatches(
      async (limit) =>
        Number(
          await db
            .from(table)
            .whereIn('id', due(db.from(table).select('id').limit(limit)))
            .delete()
        ),
      this.timer,
      (rows) => {
        if (rows) retentionDeleted(table, rows)
      }
    )
  }
}
