import type { Logger } from '@adonisjs/core/logger'
import type { FraudAlertChannel } from '#fraud/services/fraud_alert_channel'

/** Until the alert channel of app/core is merged: alerts are written to the log. */
export default class LoggedAlertChannel implements FraudAlertChannel {
  constructor(private logger: Logger) {}

  async raise(key: string, severity: string, facts: Record<string, unknown>, options: { companyId: number | null }) {
    this.logger.warn({ key, severity, facts, companyId: options.companyId }, 'fraud alert')
  }

  async clear(key: string) {
    this.logger.info({ key }, 'fraud alert cleared')
  }
}
