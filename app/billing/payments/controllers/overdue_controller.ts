import { readFile } from 'node:fs/promises'
import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import vine from '@vinejs/vine'
import { DateTime } from 'luxon'
import { formatEuro } from '#billing/payments/money'
import { RETURN_REASONS, type ReturnReason } from '#billing/payments/return_reasons'
import PaymentStatusService, {
  PaymentStatusError,
} from '#billing/payments/services/payment_status_service'
import { paymentMessages, returnValidator } from '#billing/payments/validators/payment_validators'
import paymentsConfig from '#config/payments'
import { ReturnFileError } from '#billing/payments/bank_return_file'

const paidValidator = vine.create({
  invoice_number: vine.string().trim().minLength(1).maxLength(40),
  paid_on: vine
    .string()
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/),
})

/** Staff with billing.manage: overdue invoices, marking paid, returned debits, suspensions. */
@inject()
export default class OverdueController {
  constructor(protected status: PaymentStatusService) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('BillingPolicy').authorize('manage')
    return view.render('pages/admin/payments/overdue', {
      lines: await this.status.overdue(),
      reasons: Object.keys(RETURN_REASONS),
      config: paymentsConfig,
      today: DateTime.now().setZone(paymentsConfig.timeZone).toISODate(),
      formatEuro,
    })
  }

  async markPaid(ctx: HttpContext) {
    const { bouncer, request, response, session, i18n, auth } = ctx
    await bouncer.with('BillingPolicy').authorize('manage')
    const input = await request.validateUsing(paidValidator, {
      messagesProvider: paymentMessages(i18n),
    })
    const paidOn = DateTime.fromISO(input.paid_on, { zone: 'utc' })
    return this.#answer(ctx, async () => {
      await this.status.markPaid(input.invoice_number, paidOn, {
        actor: auth.getUserOrFail(),
        ip: request.ip(),
      })
      session.flash('notice', i18n.t('payments.overdue.paid', { invoice: input.invoice_number }))
      return response.redirect().toRoute('admin.billing.payments.overdue.index')
    })
  }

  async recordReturn(ctx: HttpContext) {
    const { bouncer, request, response, session, i18n, auth } = ctx
    await bouncer.with('BillingPolicy').authorize('manage')
    const input = await request.validateUsing(returnValidator, {
      messagesProvider: paymentMessages(i18n),
    })
    return this.#answer(ctx, async () => {
      await this.status.recordReturn(input.invoice_number, input.reason as ReturnReason, {
        actor: auth.getUserOrFail(),
        ip: request.ip(),
      })
      session.flash(
        'notice',
        i18n.t('payments.overdue.returned', { invoice: input.invoice_number })
      )
      return response.redirect().toRoute('admin.billing.payments.overdue.index')
    })
  }

  /** A bank's pain.002 or camt.054 file: its returned debits are recorded; a summary says what happened. */
  async returnFile({ bouncer, request, response, session, i18n, auth }: HttpContext) {
    await bouncer.with('BillingPolicy').authorize('manage')
    const back = () => response.redirect().toRoute('admin.billing.payments.overdue.index')
    // No extname check: the type sniffed from a short XML file without declaration is not 'xml'; the parser decides
    const file = request.file('file', { size: '5mb' })
    if (!file || !file.isValid || !file.tmpPath) {
      session.flashErrors({ file: i18n.t('payments.return_file.errors.file') })
      return back()
    }
    try {
      const outcome = await this.status.applyReturnFile(await readFile(file.tmpPath, 'utf8'), {
        actor: auth.getUserOrFail(),
        ip: request.ip(),
      })
      const skipped = outcome.skipped
        .map(
          (entry) => `${entry.endToEndId}: ${i18n.t(`payments.return_file.skipped.${entry.why}`)}`
        )
        .join('; ')
      session.flash(
        'notice',
        i18n.t('payments.return_file.applied', {
          format: outcome.format,
          applied: outcome.applied.length,
          invoices: outcome.applied.map((entry) => entry.invoice).join(', ') || '–',
        }) + (skipped ? ` ${i18n.t('payments.return_file.skipped_list', { skipped })}` : '')
      )
    } catch (error) {
      if (!(error instanceof ReturnFileError)) throw error
      session.flashErrors({ file: i18n.t(`payments.return_file.errors.${error.code}`) })
    }
    return back()
  }

  async #answer({ session, response, i18n }: HttpContext, action: () => Promise<unknown>) {
    try {
      return await action()
    } catch (error) {
      if (!(error instanceof PaymentStatusError)) throw error
      session.flash('errorsBag.invoice_number', i18n.t(`payments.overdue.errors.${error.code}`))
      return response.redirect().toRoute('admin.billing.payments.overdue.index')
    }
  }
}
