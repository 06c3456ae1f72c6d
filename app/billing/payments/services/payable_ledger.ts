import PaymentPayable from '#billing/payments/models/payment_payable'
import type { Payable } from '#billing/payments/payable'

/**
 * Where issued invoices enter payments. The invoice run calls `register` once per issued invoice
 * (again is harmless: the invoice number is the key and an issued invoice never changes).
 */
export default class PayableLedger {
  async register(payable: Payable) {
    if (!Number.isSafeInteger(payable.grossCents) || payable.grossCents < 0) {
      throw new RangeError(
        `gross amount of ${payable.invoiceNumber} is not whole cents: ${payable.grossCents}`
      )
    }
    if (payable.currency !== 'EUR')
      throw new RangeError(`${payable.invoiceNumber}: only EUR is collected`)
    const existing = await PaymentPayable.findBy('invoice_number', payable.invoiceNumber)
    if (existing) return existing
    return PaymentPayable.create({
      invoiceNumber: payable.invoiceNumber,
      companyId: payable.companyId,
      grossCents: payable.grossCents,
      currency: payable.currency,
      issuedOn: payable.issuedOn,
      dueOn: payable.dueOn,
      status: 'open',
      remindersSent: 0,
    })
  }
}
