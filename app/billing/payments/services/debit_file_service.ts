import { createHash } from 'node:crypto'
import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import SEPA from 'sepa'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import app from '@adonisjs/core/services/app'
import { collectionDate } from '#billing/payments/collection_date'
import { usesTestCreditor } from '#billing/payments/test_creditor'
import { syncIssuedInvoices } from '#billing/payments/invoice_payables'
import PaymentMethod, { type MandateScheme } from '#billing/payments/models/payment_method'
import PaymentPayable from '#billing/payments/models/payment_payable'
import SepaDebit, { type SequenceType } from '#billing/payments/models/sepa_debit'
import PaymentDetailsService from '#billing/payments/services/payment_details_service'
import { centsToDecimal, decimalToCents } from '#billing/payments/sepa_amount'
import type { PaymentsConfig } from '#config/payments'
import paymentsConfig from '#config/payments'

export const PAIN_FORMAT = 'pain.008.001.08'

export class DebitFileError extends Error {
  constructor(
    public code:
      'nothing_to_collect' | 'mandate_changed' | 'not_found' | 'sums_differ' | 'test_creditor',
    message: string
  ) {
    super(message)
  }
}

export interface DebitMessage {
  messageId: string
  createdAt: DateTime
  count: number
  totalCents: number
}

/** What goes into one PmtInf: debits of one scheme, sequence type and collection date. */
interface Group {
  scheme: MandateScheme
  sequenceType: SequenceType
  collectionOn: string
  debits: SepaDebit[]
}

/**
 * The month's SEPA direct debits as a pain.008.001.08 file (sepa.js). Making the file records one
 * debit per open payable of the month whose company has a mandate (FRST for a mandate's first
 * collection, RCUR after), in a message of its own: a payable is never in two messages unless its
 * debit was returned. The file is made again from those rows for every download; the bank details
 * are read from the sealed mandate then and never stored in the clear.
 */
@inject()
export default class DebitFileService {
  protected config: PaymentsConfig = paymentsConfig
  protected now: () => DateTime = () => DateTime.utc()
  protected production = app.inProduction

  constructor(protected details: PaymentDetailsService) {}

  /** Tests: a fixed clock and settings. */
  use(options: { now?: () => DateTime; config?: PaymentsConfig; production?: boolean }) {
    if (options.production !== undefined) this.production = options.production
    if (options.now) this.now = options.now
    if (options.config) this.config = options.config
    return this
  }

  /** The messages made for payables issued in `month` ("2026-11"). */
  async messages(month: string): Promise<DebitMessage[]> {
    const { from, to } = monthRange(month)
    const rows = await db
      .from('sepa_debits')
      .join('payment_payables', 'payment_payables.id', 'sepa_debits.payable_id')
      .where('payment_payables.issued_on', '>=', from)
      .where('payment_payables.issued_on', '<', to)
      .groupBy('sepa_debits.message_id')
      .select('sepa_debits.message_id')
      .min('sepa_debits.created_at as created_at')
      .count('* as count')
      .sum('sepa_debits.amount_cents as total')
      .orderBy('created_at', 'asc')
    return rows.map((row) => ({
      messageId: row.message_id,
      createdAt: sqlTime(row.created_at),
      count: Number(row.count),
      totalCents: Number(row.total),
    }))
  }

  /** Records the debits of the month's open payables not collected yet; returns the new message id. */
  async collect(month: string, actor: User | null, ip: string | null) {
    // A bank rejects debits under the test creditor ID: in production none are recorded with it
    if (this.production && usesTestCreditor(this.config))
      throw new DebitFileError(
        'test_creditor',
        'SEPA_CREDITOR_ID is not set: the test creditor ID cannot collect'
      )
    const { from, to } = monthRange(month)
    const now = this.now()
    const today = now.setZone(this.config.timeZone)
    await syncIssuedInvoices()
    return db.transaction(async (trx) => {
      const payables = await PaymentPayable.query({ client: trx })
        .where('issued_on', '>=', from)
        .where('issued_on', '<', to)
        .where('status', 'open')
        .whereNotExists((query) =>
          query
            .from('sepa_debits')
            .whereColumn('sepa_debits.payable_id', 'payment_payables.id')
            .where('sepa_debits.status', 'submitted')
        )
        .orderBy('issued_on', 'asc')
        .orderBy('invoice_number', 'asc')
      const methods = new Map<number, PaymentMethod>()
      for (const method of await PaymentMethod.query({ client: trx })
        .whereIn('company_id', [...new Set(payables.map((payable) => payable.companyId))])
        .where('method', 'sepa_debit')) {
        methods.set(method.companyId, method)
      }
      const due = payables.filter(
        (payable) => methods.has(payable.companyId) && payable.grossCents > 0
      )
      if (!due.length)
        throw new DebitFileError(
          'nothing_to_collect',
          `no open payables with a mandate in ${month}`
        )

      const messageId = `FC-DD-${month.replace('-', '')}-${now.toFormat('yyyyMMddHHmmssSSS')}`
      const collected = new Set<string>()
      let total = 0
      for (const payable of due) {
        const method = methods.get(payable.companyId)!
        const reference = method.mandateReference!
        const earlier = await SepaDebit.query({ client: trx })
          .where('mandate_reference', reference)
          .where('status', 'submitted')
          .first()
        const sequenceType: SequenceType = earlier || collected.has(reference) ? 'RCUR' : 'FRST'
        collected.add(reference)
        const attempts = await SepaDebit.query({ client: trx })
          .where('payable_id', payable.id)
          .count('* as total')
        const attempt = Number(attempts[0].$extras.total) + 1
        await SepaDebit.create(
          {
            payableId: payable.id,
            messageId,
            mandateReference: reference,
            scheme: method.mandateScheme!,
            sequenceType,
            amountCents: payable.grossCents,
            collectionOn: collectionDate(payable, {
              preNotificationDays: this.config.preNotificationDays,
              today,
            }),
            endToEndId: `${payable.invoiceNumber.slice(0, 31)}-${attempt}`,
            status: 'submitted',
          },
          { client: trx }
        )
        total += payable.grossCents
      }
      await AuditLog.record(
        {
          action: 'billing.payment.debits_exported',
          actor,
          companyId: null,
          target: { type: 'sepa_message', id: messageId },
          details: { month, count: due.length, total: centsToDecimal(total) },
          ip,
        },
        { client: trx }
      )
      return messageId
    })
  }

  /** The pain.008.001.08 document of one message, checked against our own integer sums. */
  async xml(messageId: string) {
    const debits = await SepaDebit.query()
      .where('message_id', messageId)
      .preload('payable')
      .orderBy('id', 'asc')
    if (!debits.length) throw new DebitFileError('not_found', `no debits in message ${messageId}`)
    const methods = new Map<number, PaymentMethod>()
    for (const method of await PaymentMethod.query().whereIn(
      'company_id',
      debits.map((debit) => debit.payable.companyId)
    )) {
      methods.set(method.companyId, method)
    }

    const doc = new SEPA.Document(PAIN_FORMAT)
    doc.grpHdr.id = messageId
    doc.grpHdr.created = debits[0].createdAt.toJSDate()
    doc.grpHdr.initiatorName = this.config.creditor.name

    for (const group of groups(debits)) {
      const info = doc.createPaymentInfo()
      info.collectionDate = calendarDate(group.collectionOn)
      info.localInstrumentation = group.scheme
      info.sequenceType = group.sequenceType
      info.batchBooking = true
      info.creditorName = this.config.creditor.name
      info.creditorIBAN = this.config.creditor.iban
      info.creditorBIC = this.config.creditor.bic
      info.creditorId = this.config.creditor.id
      doc.addPaymentInfo(info)
      for (const debit of group.debits) {
        const method = methods.get(debit.payable.companyId)
        if (!method?.mandateSealed || method.mandateReference !== debit.mandateReference) {
          throw new DebitFileError(
            'mandate_changed',
            `the mandate ${debit.mandateReference} of ${debit.payable.invoiceNumber} has ended`
          )
        }
        const bank = this.details.open(method.mandateSealed)
        const tx = info.createTransaction()
        tx.debtorName = bank.accountHolder
        tx.debtorIBAN = bank.iban
        if (bank.bic) tx.debtorBIC = bank.bic
        tx.mandateId = debit.mandateReference
        tx.mandateSignatureDate = calendarDate(method.mandateSignedOn!.toISODate()!)
        // Exact: the decimal string is written from integer cents, and sepa.js writes back toFixed(2) of it
        tx.amount = Number(centsToDecimal(debit.amountCents))
        tx.currency = 'EUR'
        tx.end2endId = debit.endToEndId
        tx.remittanceInfo = `Rechnung ${debit.payable.invoiceNumber}`
        info.addTransaction(tx)
      }
    }
    const xml = doc.toString()
    checkSums(xml, debits)
    return {
      xml,
      fileName: `${messageId}.xml`,
      digest: createHash('sha256').update(xml).digest('hex'),
    }
  }
}

/**
 * Every amount and both levels of NbOfTxs and CtrlSum in the document, against the integer cents
 * of the debits: a file whose sums a float bent is never handed out.
 */
export function checkSums(xml: string, debits: Array<{ amountCents: number }>) {
  const amountsIn = (text: string) =>
    [...text.matchAll(/<InstdAmt Ccy="EUR">([^<]+)<\/InstdAmt>/g)].map((match) =>
      decimalToCents(match[1])
    )
  const header = /<GrpHdr>([\s\S]*?)<\/GrpHdr>/.exec(xml)?.[1] ?? ''
  const headerOk = (text: string, amounts: number[]) =>
    Number(/<NbOfTxs>(\d+)<\/NbOfTxs>/.exec(text)?.[1]) === amounts.length &&
    decimalToCents(/<CtrlSum>([^<]+)<\/CtrlSum>/.exec(text)?.[1] ?? 'x') ===
      amounts.reduce((sum, amount) => sum + amount, 0)
  const written = amountsIn(xml).sort((a, b) => a - b)
  const expected = debits.map((debit) => debit.amountCents).sort((a, b) => a - b)
  const blocks = [...xml.matchAll(/<PmtInf>([\s\S]*?)<\/PmtInf>/g)].map((match) => match[1])
  const ok =
    written.length === expected.length &&
    written.every((amount, index) => amount === expected[index]) &&
    headerOk(header, expected) &&
    blocks.every((block) =>
      headerOk(block.slice(0, block.indexOf('<DrctDbtTxInf>')), amountsIn(block))
    )
  if (!ok)
    throw new DebitFileError(
      'sums_differ',
      'the pain.008 amounts or control sums differ from the integer cents'
    )
}

function groups(debits: SepaDebit[]): Group[] {
  const byKey = new Map<string, Group>()
  for (const debit of debits) {
    const collectionOn = debit.collectionOn.toISODate()!
    const key = `${debit.scheme}|${debit.sequenceType}|${collectionOn}`
    if (!byKey.has(key))
      byKey.set(key, {
        scheme: debit.scheme,
        sequenceType: debit.sequenceType,
        collectionOn,
        debits: [],
      })
    byKey.get(key)!.debits.push(debit)
  }
  return [...byKey.values()].sort((a, b) =>
    a.collectionOn === b.collectionOn
      ? `${a.scheme}${a.sequenceType}`.localeCompare(`${b.scheme}${b.sequenceType}`)
      : a.collectionOn.localeCompare(b.collectionOn)
  )
}

/** Noon UTC of a calendar date: sepa.js writes the local calendar date, the same in every time zone near UTC. */
function calendarDate(iso: string) {
  const [year, month, day] = iso.split('-').map(Number)
  return new Date(Date.UTC(year, month - 1, day, 12))
}

/** A timestamp as the driver returns it from an aggregate: a Date (pg) or text (SQLite). */
function sqlTime(value: unknown) {
  if (value instanceof Date) return DateTime.fromJSDate(value, { zone: 'utc' })
  const sql = DateTime.fromSQL(String(value), { zone: 'utc' })
  return sql.isValid ? sql : DateTime.fromISO(String(value), { zone: 'utc' })
}

export function monthRange(month: string) {
  const start = DateTime.fromFormat(month, 'yyyy-MM', { zone: 'utc' })
  if (!start.isValid) throw new DebitFileError('not_found', `not a month: ${month}`)
  return { from: start.toISODate()!, to: start.plus({ months: 1 }).toISODate()! }
}
