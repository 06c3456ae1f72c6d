import env from '#start/env'
import { normalizeIban } from '#billing/payments/iban'

/** The test account used when SEPA_CREDITOR_IBAN is empty (development and tests only). */
export const TEST_ACCOUNT_IBAN = 'DE87123456781234567890'

/**
 * Set only if this deployment wrote our IBAN into this file before SEPA_CREDITOR_IBAN became the
 * one setting for it; leave null. When both are set they must name the same account.
 */
const SELLER_IBAN_IN_CODE: string | null = null

/**
 * Our own bank account has one source, SEPA_CREDITOR_IBAN (the name the production settings in
 * the README use): the invoices' bank transfer details (BT-84, GiroCode) and the creditor account
 * of the debit files are the same account. An IBAN also written here that differs refuses the
 * start, so invoices never name another account than the debits are collected to.
 */
export function ourAccountIban(
  fromEnv: string | null | undefined,
  inCode: string | null = SELLER_IBAN_IN_CODE
): string {
  const envIban = fromEnv?.trim() ? normalizeIban(fromEnv) : null
  const codeIban = inCode?.trim() ? normalizeIban(inCode) : null
  if (envIban && codeIban && envIban !== codeIban)
    throw new Error(
      `Two IBANs for our own account: SEPA_CREDITOR_IBAN is ${envIban}, config/invoicing.ts sets ${codeIban}. SEPA_CREDITOR_IBAN is the setting: remove the IBAN from config/invoicing.ts (SELLER_IBAN_IN_CODE = null) or make both the same`
    )
  return envIban ?? codeIban ?? TEST_ACCOUNT_IBAN
}

/**
 * The seller on every invoice (EN 16931 BG-4) and the payment terms. Values are the provider's
 * own master data, not secrets; a deployment changes them here.
 */
export interface InvoicingConfig {
  seller: {
    name: string
    street: string
    postalCode: string
    city: string
    country: string
    /** BT-31, USt-IdNr. (§ 14(4) Nr. 2 UStG) */
    vatId: string
    /** BT-30, commercial register entry */
    registerEntry: string
    email: string
    phone: string
    /** Our account: from SEPA_CREDITOR_IBAN (ourAccountIban), also the SEPA creditor account. */
    iban: string
  }
  /** Days from the issue date to the due date. */
  paymentDays: number
  /** Invoice numbers: prefix + year of issue + six digits, e.g. RE-2026-000001. */
  numberPrefix: string
  /** The month's run starts from this hour (Europe/Berlin) on the first day of the next month. */
  runHour: number
}

const invoicingConfig: InvoicingConfig = {
  seller: {
    name: 'FluffyCall GmbH',
    street: 'Friedrichstraße 100',
    postalCode: '10117',
    city: 'Berlin',
    country: 'DE',
    vatId: 'DE123456789',
    registerEntry: 'HRB 123456 B, Amtsgericht Charlottenburg',
    email: 'rechnung@fluffycall.de',
    phone: '+49 30 12345678',
    iban: ourAccountIban(env.get('SEPA_CREDITOR_IBAN')),
  },
  paymentDays: 14,
  numberPrefix: 'RE',
  runHour: 3,
}

export default invoicingConfig
