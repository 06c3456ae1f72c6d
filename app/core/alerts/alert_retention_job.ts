import { DateTime } from 'luxon'
import Alert from '#core/alerts/alert'
import type { Job } from '#core/queue/types'
import { sqlTime } from '#core/sql_time'

/** Daily: deletes alerts cleared longer ago than the declared retention, with their history. */
export default class AlertRetentionJob implements Job<Record<string, never>> {
  readonly name = 'core.alert_retention'

  constructor(
    private retentionMonths: number,
    private clock: () => DateTime = () => DateTime.utc()
  ) {}

  async handle() {
    const cutoff = this.clock().minus({ months: this.retentionMonths })
    const expired = await Alert.query()
      .where('status', 'cleared')
      .where('cleared_at', '<', sqlTime(cutoff))
      .select('id')
    if (!expired.length) return
    await Alert.query()
      .whereIn(
        'id',
        expired.map((row) => row.id)
      )
      .delete()
  }
}
