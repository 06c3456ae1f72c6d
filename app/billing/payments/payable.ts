import type { DateTime } from 'luxon'

/**
 * What payments need of an invoice: the seam between the invoice model and payments. The invoice
 * model implements this (or maps an issued invoice to it) and hands it to
 * `PaymentStatusService.register` when the invoice is issued; payments then collect it by SEPA
 * direct debit or wait for a bank transfer, remind and suspend.
 */
export interface Payable {
  /** The invoice number (BT-1): remittance information and end-to-end reference. */
  invoiceNumber: string
  companyId: number
  /** Gross amount (BT-112) in integer euro cents; never a float. */
  grossCents: number
  currency: 'EUR'
  /** Invoice issue date (BT-2), a calendar date. */
  issuedOn: DateTime
  /** Payment due date (BT-9), a calendar date. */
  dueOn: DateTime
}
