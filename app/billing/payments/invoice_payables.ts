import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import Invoice from '#billing/models/invoice'
import PaymentPayable from '#billing/payments/models/payment_payable'
import type { Payable } from '#billing/payments/payable'
import PayableLedger from '#billing/payments/services/payable_ledger'

/**
 * The issued invoices as payables. Only the month's invoices (type `invoice`) with something to
 * pay; a Stornorechnung or Rechnungskorrektur is settled by staff against the original.
 */
export function invoicePayable(invoice: Invoice): Payable {
  return {
    invoiceNumber: invoice.number,
    companyId: invoice.companyId,
    grossCents: invoice.grossCents,
    currency: 'EUR',
    issuedOn: DateTime.fromISO(invoice.issueDate, { zone: 'utc' }),
    dueOn: DateTime.fromISO(invoice.dueDate, { zone: 'utc' }),
  }
}

/**
 * Registers the issued invoices payments does not know yet, and drops (status `cancelled`) the
 * payables whose invoice was cancelled. Pulled before every run, so the invoice model stays free of
 * payments code.
 */
export async function syncIssuedInvoices() {
  const ledger = new PayableLedger()
  const fresh = await Invoice.query()
    .where('type', 'invoice')
    .where('status', 'open')
    .where('currency', 'EUR')
    .where('gross_cents', '>', 0)
    .whereNotIn('number', db.from('payment_payables').select('invoice_number'))
  for (const invoice of fresh) await ledger.register(invoicePayable(invoice))
  const cancelled = db.from('invoices').where('status', 'cancelled').select('number')
  await PaymentPayable.query()
    .whereIn('invoice_number', cancelled)
    .whereIn('status', ['open', 'returned'])
    .update({ status: 'cancelled' })
  return fresh.length
}

/** Mirrors a payment status onto the invoice (its one mutable column), when the payable is an invoice. */
export async function mirrorOnInvoice(invoiceNumber: string, status: 'open' | 'paid') {
  const invoice = await Invoice.findBy('number', invoiceNumber)
  if (invoice && invoice.status !== status && invoice.status !== 'cancelled')
    await invoice.markStatus(status)
}
