import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type User from '#accounts/models/user'
import Company from '#accounts/models/company'
import AuditLog from '#accounts/services/audit_log'
import PaymentPayable from '#billing/payments/models/payment_payable'
import PaymentSuspension from '#billing/payments/models/payment_suspension'
import SepaDebit from '#billing/payments/models/sepa_debit'
import type { ReturnReason } from '#billing/payments/return_reasons'
import { parseReturnFile, type ReturnFile } from '#billing/payments/bank_return_file'
import PaymentReminderMailJob from '#billing/payments/jobs/payment_reminder_mail_job'
import { mirrorOnInvoice, syncIssuedInvoices } from '#billing/payments/invoice_payables'
import { centsToDecimal } from '#billing/payments/sepa_amount'
import type { PaymentsConfig } from '#config/payments'
import paymentsConfig from '#config/payments'
import type { JobQueue } from '#core/queue/types'
import app from '@adonisjs/core/services/app'
import { LookupCache } from '#core/caching/lookup_changes'

/** The call gate asks on every call: kept until a suspension is written (#core/caching/lookup_changes). */
const suspensions = new LookupCache<number, boolean>({ tables: ['payment_suspensions'] })

export class PaymentStatusError extends Error {
  constructor(
    public code: 'unknown_invoice' | 'no_debit' | 'already_paid',
    message: string
  ) {
    super(message)
  }
}

/** What a bank's return file changed: per end-to-end id, applied or why not. */
export interface ReturnFileOutcome {
  format: ReturnFile['format']
  applied: Array<{ endToEndId: string; invoice: string; reason: ReturnReason }>
  skipped: Array<{
    endToEndId: string
    why: 'unknown_debit' | 'already_returned' | 'amount_differs'
  }>
}

export interface OverdueLine {
  payable: PaymentPayable
  company: Company | null
  daysOverdue: number
  returnReason: string | null
  suspended: boolean
}

interface Actor {
  actor: User | null
  ip: string | null
}

/**
 * Whether payables are paid, and what follows when they are not: staff mark transfers paid,
 * returned debits make a payable unpaid again, reminders go out by mail through the job queue
 * on the configured days after the due date, and after `suspendAfterDays` the company's outbound
 * calls stop (the billing call gate; 110/112 never reach a gate). Paying lifts the suspension.
 * Every change is audited; the clock is injected.
 */
@inject()
export default class PaymentStatusService {
  protected config: PaymentsConfig = paymentsConfig
  protected now: () => DateTime = () => DateTime.utc()
  protected queue: JobQueue | null = null

  use(options: { now?: () => DateTime; config?: PaymentsConfig; queue?: JobQueue }) {
    if (options.now) this.now = options.now
    if (options.config) this.config = options.config
    if (options.queue) this.queue = options.queue
    return this
  }

  protected today() {
    const local = this.now().setZone(this.config.timeZone)
    return DateTime.utc(local.year, local.month, local.day)
  }

  protected async jobs() {
    return this.queue ?? (await app.container.make('jobs.queue'))
  }

  async find(invoiceNumber: string) {
    const payable = await PaymentPayable.findBy('invoice_number', invoiceNumber.trim())
    if (!payable) throw new PaymentStatusError('unknown_invoice', `no payable ${invoiceNumber}`)
    return payable
  }

  /** A transfer arrived (or a debit was booked): paid on that day; a suspension it caused ends. */
  async markPaid(invoiceNumber: string, paidOn: DateTime, { actor, ip }: Actor) {
    const payable = await this.find(invoiceNumber)
    if (payable.status === 'paid' || payable.status === 'cancelled')
      throw new PaymentStatusError('already_paid', `${invoiceNumber} is settled already`)
    payable.merge({ status: 'paid', paidOn })
    await payable.save()
    await mirrorOnInvoice(payable.invoiceNumber, 'paid')
    await AuditLog.record({
      action: 'billing.payment.marked_paid',
      actor,
      companyId: payable.companyId,
      target: { type: 'payable', id: payable.invoiceNumber },
      details: { invoice: payable.invoiceNumber, total: centsToDecimal(payable.grossCents) },
      ip,
    })
    await this.liftIfSettled(payable.companyId, { actor, ip })
    return payable
  }

  /** The bank returned the payable's last debit (R-transaction with an ISO reason code): unpaid again. */
  async recordReturn(invoiceNumber: string, reason: ReturnReason, { actor, ip }: Actor) {
    const payable = await this.find(invoiceNumber)
    const debit = await SepaDebit.query()
      .where('payable_id', payable.id)
      .where('status', 'submitted')
      .orderBy('id', 'desc')
      .first()
    if (!debit)
      throw new PaymentStatusError(
        'no_debit',
        `${invoiceNumber} has no debit that could be returned`
      )
    await db.transaction(async (trx) => {
      debit.useTransaction(trx)
      debit.merge({ status: 'returned', returnReason: reason, returnedAt: this.now() })
      await debit.save()
      payable.useTransaction(trx)
      payable.merge({ status: 'returned', paidOn: null })
      await payable.save()
      await AuditLog.record(
        {
          action: 'billing.payment.debit_returned',
          actor,
          companyId: payable.companyId,
          target: { type: 'payable', id: payable.invoiceNumber },
          details: { invoice: payable.invoiceNumber, reason, reference: debit.mandateReference },
          ip,
        },
        { client: trx }
      )
    })
    await mirrorOnInvoice(payable.invoiceNumber, 'open')
    return payable
  }

  /**
   * A bank's pain.002 or camt.054 file: each returned debit it names (by our end-to-end id) is
   * recorded as returned like recordReturn does, once; a debit already returned, one we do not know,
   * or one whose amount differs from the file's is left alone and reported.
   */
  async applyReturnFile(xml: string, who: Actor): Promise<ReturnFileOutcome> {
    const file = parseReturnFile(xml)
    const outcome: ReturnFileOutcome = { format: file.format, applied: [], skipped: [] }
    for (const entry of file.returns) {
      const debit = await SepaDebit.query()
        .where('end_to_end_id', entry.endToEndId)
        .preload('payable')
        .first()
      if (!debit) {
        outcome.skipped.push({ endToEndId: entry.endToEndId, why: 'unknown_debit' })
      } else if (debit.status !== 'submitted') {
        outcome.skipped.push({ endToEndId: entry.endToEndId, why: 'already_returned' })
      } else if (entry.amountCents !== null && entry.amountCents !== debit.amountCents) {
        outcome.skipped.push({ endToEndId: entry.endToEndId, why: 'amount_differs' })
      } else {
        await this.recordReturn(debit.payable.invoiceNumber, entry.reason, who)
        outcome.applied.push({
          endToEndId: entry.endToEndId,
          invoice: debit.payable.invoiceNumber,
          reason: entry.reason,
        })
      }
    }
    return outcome
  }

  /**
   * Unpaid payables past their due date, except those whose debit is still being collected.
   * Open payables with a submitted debit count as paid by that debit unless it comes back.
   */
  protected overdueQuery() {
    return PaymentPayable.query()
      .whereIn('status', ['open', 'returned'])
      .where('due_on', '<', this.today().toISODate()!)
      .whereNotExists((query) =>
        query
          .from('sepa_debits')
          .whereColumn('sepa_debits.payable_id', 'payment_payables.id')
          .where('sepa_debits.status', 'submitted')
      )
  }

  async overdue(): Promise<OverdueLine[]> {
    const payables = await this.overdueQuery()
      .orderBy('due_on', 'asc')
      .orderBy('invoice_number', 'asc')
    const companyIds = [...new Set(payables.map((payable) => payable.companyId))]
    const companies = new Map(
      (await Company.query().whereIn('id', companyIds)).map((company) => [company.id, company])
    )
    const suspended = new Set(
      (
        await PaymentSuspension.query().whereIn('company_id', companyIds).whereNull('lifted_at')
      ).map((row) => row.companyId)
    )
    const returns = new Map<number, string | null>()
    for (const debit of await SepaDebit.query()
      .whereIn(
        'payable_id',
        payables.map((payable) => payable.id)
      )
      .where('status', 'returned')
      .orderBy('id', 'asc')) {
      returns.set(debit.payableId, debit.returnReason)
    }
    return payables.map((payable) => ({
      payable,
      company: companies.get(payable.companyId) ?? null,
      daysOverdue: Math.floor(
        this.today().diff(
          payable.dueOn.setZone('utc', { keepLocalTime: true }).startOf('day'),
          'days'
        ).days
      ),
      returnReason: returns.get(payable.id) ?? null,
      suspended: suspended.has(payable.companyId),
    }))
  }

  /** The scheduled run: due reminders go out (one level per run), long-overdue companies are suspended. */
  async run() {
    await syncIssuedInvoices()
    const result = { reminded: [] as string[], suspended: [] as number[] }
    for (const line of await this.overdue()) {
      const { payable, daysOverdue } = line
      const level = this.config.reminderDays.filter((days) => daysOverdue >= days).length
      if (level > payable.remindersSent) {
        payable.merge({ remindersSent: level, lastRemindedAt: this.now() })
        await payable.save()
        await (
          await this.jobs()
        ).dispatch(new PaymentReminderMailJob(), { payableId: payable.id, level })
        await AuditLog.record({
          action: 'billing.payment.reminder_sent',
          actor: null,
          companyId: payable.companyId,
          target: { type: 'payable', id: payable.invoiceNumber },
          details: { invoice: payable.invoiceNumber, level },
        })
        result.reminded.push(payable.invoiceNumber)
      }
      if (
        daysOverdue >= this.config.suspendAfterDays &&
        !line.suspended &&
        !result.suspended.includes(payable.companyId)
      ) {
        await PaymentSuspension.create({
          companyId: payable.companyId,
          payableId: payable.id,
          suspendedAt: this.now(),
          liftedAt: null,
        })
        await AuditLog.record({
          action: 'billing.payment.calls_suspended',
          actor: null,
          companyId: payable.companyId,
          target: { type: 'payable', id: payable.invoiceNumber },
          details: { invoice: payable.invoiceNumber },
        })
        result.suspended.push(payable.companyId)
      }
    }
    return result
  }

  /** Ends the company's suspension once none of its payables is overdue beyond the limit any more. */
  async liftIfSettled(companyId: number, { actor, ip }: Actor) {
    const active = await PaymentSuspension.query()
      .where('company_id', companyId)
      .whereNull('lifted_at')
    if (!active.length) return false
    const limit = this.today().minus({ days: this.config.suspendAfterDays }).toISODate()!
    const stillOverdue = await this.overdueQuery()
      .where('company_id', companyId)
      .where('due_on', '<=', limit)
      .first()
    if (stillOverdue) return false
    for (const suspension of active) {
      suspension.liftedAt = this.now()
      await suspension.save()
    }
    await AuditLog.record({
      action: 'billing.payment.calls_resumed',
      actor,
      companyId,
      target: { type: 'company', id: companyId },
      ip,
    })
    return true
  }

  /** For the call gate: is the company suspended for late payment? */
  static async isSuspended(companyId: number) {
    return suspensions.get(companyId, async () =>
      Boolean(
        await PaymentSuspension.query()
          .where('company_id', companyId)
          .whereNull('lifted_at')
          .first()
      )
    )
  }
}
