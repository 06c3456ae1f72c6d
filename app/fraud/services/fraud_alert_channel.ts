import type { SignalFacts, SignalLevel } from '#fraud/detection/types'

/**
 * What fraud needs of the one alert channel of app/core (raise deduplicated per key, clear).
 * Bound in providers/fraud_provider.ts; tests swap in a recording double.
 */
export interface FraudAlertChannel {
  raise(key: string, severity: SignalLevel, facts: SignalFacts, options: { companyId: number | null }): Promise<unknown>
  clear(key: string): Promise<unknown>
}
