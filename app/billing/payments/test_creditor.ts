import type { PaymentsConfig } from '#config/payments'
import type { AlertFacts, AlertSeverity, RaiseOptions } from '#core/alerts/types'

/**
 * The Deutsche Bundesbank's creditor identifier for tests, which config/payments.ts falls back to
 * when SEPA_CREDITOR_ID is empty. Fit for development; a bank rejects real debits under it.
 */
export const TEST_CREDITOR_ID = 'DE98ZZZ09999999999'
export const TEST_CREDITOR_ALERT = 'payments_test_creditor'

export function usesTestCreditor(config: Pick<PaymentsConfig, 'creditor'>) {
  return config.creditor.id === TEST_CREDITOR_ID
}

interface Deps {
  logger: { warn(details: object, message: string): void }
  alerts: {
    raise(key: string, severity: AlertSeverity, facts: AlertFacts, options?: RaiseOptions): unknown
    clear(key: string): unknown
  }
}

/**
 * At a production start: with the test creditor ID (SEPA_* left empty) the log says so and a
 * critical alert stays open for staff until a start with a real one clears it. Debit files are
 * refused meanwhile (DebitFileService). Returns whether the test creditor is in use.
 */
export async function warnAboutTestCreditor(config: PaymentsConfig, deps: Deps) {
  if (!usesTestCreditor(config)) {
    await deps.alerts.clear(TEST_CREDITOR_ALERT)
    return false
  }
  deps.logger.warn(
    { creditorId: config.creditor.id },
    'SEPA_CREDITOR_ID is empty: the Bundesbank test creditor ID is in use; SEPA debit files are refused until SEPA_CREDITOR_ID, SEPA_CREDITOR_NAME, SEPA_CREDITOR_IBAN and SEPA_CREDITOR_BIC are set'
  )
  await deps.alerts.raise(TEST_CREDITOR_ALERT, 'critical', { creditorId: config.creditor.id })
  return true
}
