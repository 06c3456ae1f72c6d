import app from '@adonisjs/core/services/app'
import PaymentStatusService from '#billing/payments/services/payment_status_service'
import type { Job } from '#core/queue/types'

/** Hourly: reminders on the configured days, suspension after the configured time overdue. */
export default class PaymentOverdueJob implements Job<Record<string, never>> {
  readonly name = 'billing.payment_overdue'

  async handle() {
    await (await app.container.make(PaymentStatusService)).run()
  }
}
