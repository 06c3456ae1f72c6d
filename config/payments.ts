import env from '#start/env'
import { isValidCreditorId, normalizeCreditorId } from '#billing/payments/creditor_id'
import { TEST_CREDITOR_ID } from '#billing/payments/test_creditor'
import invoicingConfig from '#config/invoicing'
import { isValidBic, isValidIban, normalizeBic } from '#billing/payments/iban'

/**
 * Payments (app/billing/payments): who collects the SEPA direct debits, when, and what happens to
 * unpaid invoices. Values come from the environment; the defaults are the Bundesbank's test
 * creditor ID and a test account, fit for development only: a production start with them warns and
 * raises an alert, and debit files are refused (app/billing/payments/test_creditor.ts).
 */
export interface PaymentsConfig {
  creditor: {
    name: string
    /** SEPA creditor identifier (Gläubiger-ID), e.g. DE98ZZZ09999999999. */
    id: string
    iban: string
    bic: string
  }
  /**
   * Days between the pre-notification (the invoice) and the debit: 14 by the SEPA rulebooks unless
   * the contract agrees a shorter period (our terms may, down to 1).
   */
  preNotificationDays: number
  /** Days after the due date at which a reminder is sent, one per entry ("7,14"). */
  reminderDays: number[]
  /** Days after the due date at which the company's outbound calls are suspended (110/112 stay). */
  suspendAfterDays: number
  /** Calendar dates are counted here. */
  timeZone: string
}

export function parseDayList(value: string | undefined, fallback: number[]) {
  if (!value?.trim()) return fallback
  const days = value.split(',').map((part) => Number(part.trim()))
  if (days.some((day) => !Number.isInteger(day) || day < 0))
    throw new Error(`PAYMENT_REMINDER_DAYS: "${value}" is not a list of whole days`)
  return [...days].sort((a, b) => a - b)
}

/** Refuses to boot with creditor settings a bank would reject. */
export function validatePaymentsConfig(config: PaymentsConfig) {
  const problems: string[] = []
  if (!config.creditor.name.trim() || config.creditor.name.length > 70)
    problems.push('SEPA_CREDITOR_NAME must have 1 to 70 characters')
  if (!isValidCreditorId(config.creditor.id))
    problems.push(
      `SEPA_CREDITOR_ID "${config.creditor.id}" is not a valid SEPA creditor identifier`
    )
  if (!isValidIban(config.creditor.iban))
    problems.push('SEPA_CREDITOR_IBAN is not a valid IBAN of a SEPA country')
  if (config.creditor.bic && !isValidBic(config.creditor.bic))
    problems.push('SEPA_CREDITOR_BIC is not a valid BIC')
  if (
    !Number.isInteger(config.preNotificationDays) ||
    config.preNotificationDays < 1 ||
    config.preNotificationDays > 14
  ) {
    problems.push('SEPA_PRE_NOTIFICATION_DAYS must be a whole number from 1 to 14')
  }
  if (!Number.isInteger(config.suspendAfterDays) || config.suspendAfterDays < 1)
    problems.push('PAYMENT_SUSPEND_AFTER_DAYS must be at least 1')
  if (problems.length) throw new Error(`Payment settings: ${problems.join('; ')}`)
  return config
}

const paymentsConfig: PaymentsConfig = validatePaymentsConfig({
  creditor: {
    name: env.get('SEPA_CREDITOR_NAME') || 'FluffyCall GmbH',
    id: normalizeCreditorId(env.get('SEPA_CREDITOR_ID') || TEST_CREDITOR_ID),
    // One account for invoices and debits: SEPA_CREDITOR_IBAN, resolved in config/invoicing.ts
    iban: invoicingConfig.seller.iban,
    bic: normalizeBic(env.get('SEPA_CREDITOR_BIC') || 'XMPLDEM0XXX'),
  },
  preNotificationDays: env.get('SEPA_PRE_NOTIFICATION_DAYS') ?? 14,
  reminderDays: parseDayList(env.get('PAYMENT_REMINDER_DAYS'), [7, 14]),
  suspendAfterDays: env.get('PAYMENT_SUSPEND_AFTER_DAYS') ?? 28,
  timeZone: 'Europe/Berlin',
})

export default paymentsConfig
