/**
 * Reason codes of returned SEPA direct debits (ISO 20022 ExternalReturnReason1Code as used in the
 * EPC rulebooks' R-transactions). Labels for staff are in resources/lang/ * /payments.json.
 */
export const RETURN_REASONS = {
  AC01: 'account identifier incorrect',
  AC04: 'account closed',
  AC06: 'account blocked',
  AG01: 'transaction forbidden on this account',
  AM04: 'insufficient funds',
  MD01: 'no valid mandate',
  MD06: 'refund request by the debtor',
  MD07: 'debtor deceased',
  MS02: 'refused by the debtor',
  MS03: 'reason not specified',
  SL01: 'specific service offered by the debtor bank',
} as const

export type ReturnReason = keyof typeof RETURN_REASONS
