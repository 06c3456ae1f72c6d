import { DateTime } from 'luxon'
import AlertEvent from '#core/alerts/alert_event'
import type AlertDeliveryJob from '#core/alerts/alert_delivery_job'
import type { Job } from '#core/queue/types'
import { sqlTime } from '#core/sql_time'

/**
 * Every minute: delivers again what did not go out, so a receiver that was down, a mail server
 * that refused, or a node stopped between raising and delivering loses no alert. Mails are retried
 * for a day, webhooks on the schedule of WEBHOOK_RETRY_MINUTES.
 */
export default class AlertRedeliveryJob implements Job<Record<string, never>> {
  readonly name = 'core.alert_redelivery'

  constructor(
    private delivery: AlertDeliveryJob,
    private clock: () => DateTime = () => DateTime.utc()
  ) {}

  async handle() {
    const now = this.clock()
    const due = await AlertEvent.query()
      .where((query) => {
        query
          .where((webhook) =>
            webhook
              .where('webhook_status', 'pending')
              .where('webhook_next_attempt_at', '<=', sqlTime(now))
          )
          .orWhere((unmailed) =>
            unmailed
              .whereNull('mailed_at')
              .where('at', '<=', sqlTime(now.minus({ minutes: 2 })))
              .where('at', '>=', sqlTime(now.minus({ days: 1 })))
          )
      })
      .orderBy('id')
      .limit(100)
    for (const event of due) await this.delivery.handle({ eventId: event.id })
  }
}
