import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { DateTime } from 'luxon'
import DebitFileService, { DebitFileError } from '#billing/payments/services/debit_file_service'
import {
  debitMonthValidator,
  paymentMessages,
} from '#billing/payments/validators/payment_validators'
import { formatEuro } from '#billing/payments/money'
import paymentsConfig from '#config/payments'

/** Staff with billing.manage: the month's SEPA direct debits as pain.008.001.08 files. */
@inject()
export default class DebitsController {
  constructor(protected debits: DebitFileService) {}

  async index({ view, bouncer, request, i18n }: HttpContext) {
    await bouncer.with('BillingPolicy').authorize('manage')
    const { month: asked } = await request.validateUsing(debitMonthValidator, {
      data: request.qs(),
      messagesProvider: paymentMessages(i18n),
    })
    const month =
      asked ??
      DateTime.now().setZone(paymentsConfig.timeZone).minus({ months: 1 }).toFormat('yyyy-MM')
    return view.render('pages/admin/payments/debits', {
      month,
      messages: await this.debits.messages(month),
      creditor: paymentsConfig.creditor,
      preNotificationDays: paymentsConfig.preNotificationDays,
      formatEuro,
    })
  }

  async store({ bouncer, request, response, session, i18n, auth }: HttpContext) {
    await bouncer.with('BillingPolicy').authorize('manage')
    const { month } = await request.validateUsing(debitMonthValidator, {
      messagesProvider: paymentMessages(i18n),
    })
    const chosen =
      month ??
      DateTime.now().setZone(paymentsConfig.timeZone).minus({ months: 1 }).toFormat('yyyy-MM')
    try {
      const messageId = await this.debits.collect(chosen, auth.getUserOrFail(), request.ip())
      session.flash('notice', i18n.t('payments.debits.created', { messageId }))
    } catch (error) {
      if (!(error instanceof DebitFileError) || error.code !== 'nothing_to_collect') throw error
      session.flash('error', i18n.t('payments.debits.nothing'))
    }
    return response
      .redirect()
      .toRoute('admin.billing.payments.debits.index', {}, { qs: { month: chosen } })
  }

  async download({ bouncer, params, response, session, i18n }: HttpContext) {
    await bouncer.with('BillingPolicy').authorize('manage')
    try {
      const file = await this.debits.xml(String(params.messageId))
      response.header('content-type', 'application/xml; charset=utf-8')
      response.header('content-disposition', `attachment; filename="${file.fileName}"`)
      return file.xml
    } catch (error) {
      if (!(error instanceof DebitFileError)) throw error
      if (error.code === 'not_found') return response.notFound()
      session.flash('error', i18n.t(`payments.debits.${error.code}`))
      return response.redirect().toRoute('admin.billing.payments.debits.index')
    }
  }
}
