import type { ApplicationService } from '@adonisjs/core/types'
import { CallGateRegistry } from '#calls/gates/call_gate'

const HOUR = 60 * 60 * 1000

/**
 * Payments at boot: the call gate that stops the outbound calls of a company suspended for late
 * payment (110/112 never reach the gates), and the hourly run of reminders and suspensions.
 */
export default class PaymentsProvider {
  constructor(protected app: ApplicationService) {}

  async boot() {
    this.app.container.resolving(CallGateRegistry, async (gates) => {
      const { default: PaymentGate } = await import('#billing/payments/gates/payment_gate')
      gates.register(new PaymentGate())
    })
  }

  async ready() {
    const queue = await this.app.container.make('jobs.queue')
    const { default: PaymentReminderMailJob } =
      await import('#billing/payments/jobs/payment_reminder_mail_job')
    const { default: PaymentOverdueJob } =
      await import('#billing/payments/jobs/payment_overdue_job')
    queue.register(new PaymentReminderMailJob())
    if (this.app.getEnvironment() === 'web')
      await queue.schedule(new PaymentOverdueJob(), {}, { everyMs: HOUR })
    if (this.app.inProduction && this.app.getEnvironment() === 'web') {
      const logger = await this.app.container.make('logger')
      const { warnAboutTestCreditor } = await import('#billing/payments/test_creditor')
      const { default: paymentsConfig } = await import('#config/payments')
      try {
        await warnAboutTestCreditor(paymentsConfig, {
          logger,
          alerts: await this.app.container.make('alerts'),
        })
      } catch (error) {
        logger.error({ err: error }, 'the SEPA creditor check could not raise its alert')
      }
    }
  }
}
