import type AlertChannel from '#core/alerts/alert_channel'
import type { SignalFacts, SignalLevel } from '#fraud/detection/types'

/**
 * What fraud needs of the one alert channel of app/core (raise deduplicated per key, clear).
 * Bound in providers/fraud_provider.ts; tests swap in a recording double.
 */
export interface FraudAlertChannel {
  raise(
    key: string,
    severity: SignalLevel,
    facts: SignalFacts,
    options: { companyId: number | null; kind: string }
  ): Promise<unknown>
  clear(key: string): Promise<unknown>
}

/**
 * The core channel for fraud: a company's alerts reach its owners and admins too (issue 14:
 * "by mail to the company's admins and to staff"); platform-wide ones (failed logins of unknown
 * accounts) only staff.
 */
export function coreFraudAlerts(alerts: AlertChannel): FraudAlertChannel {
  return {
    raise: (key, severity, facts, { companyId, kind }) =>
      alerts.raise(key, severity, facts, { companyId, kind, notifyCompany: companyId !== null }),
    clear: (key) => alerts.clear(key),
  }
}
