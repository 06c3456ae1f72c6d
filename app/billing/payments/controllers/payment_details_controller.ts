import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { DateTime } from 'luxon'
import PaymentDetailsService from '#billing/payments/services/payment_details_service'
import {
  invoiceEmailValidator,
  mandateValidator,
  paymentMessages,
} from '#billing/payments/validators/payment_validators'
import User from '#accounts/models/user'
import Company from '#accounts/models/company'
import { buyerElectronicAddress } from '#billing/buyer_address'
import paymentsConfig from '#config/payments'

/** Customer area: the company's payment details (owner and admins: billing.payment.manage). */
@inject()
export default class PaymentDetailsController {
  constructor(protected details: PaymentDetailsService) {}

  async show({ view, auth, bouncer }: HttpContext) {
    await bouncer.authorize('permission', 'billing.payment.manage')
    const user = auth.getUserOrFail()
    const company = await Company.findOrFail(user.companyId)
    const owner = await User.query()
      .where('company_id', company.id)
      .whereHas('role', (role) => role.where('name', 'owner'))
      .orderBy('id')
      .first()
    return view.render('pages/customer/payments/details', {
      details: await this.details.view(user.companyId!),
      company,
      buyerAddress: buyerElectronicAddress(company, owner?.email ?? null),
      creditor: { name: paymentsConfig.creditor.name, id: paymentsConfig.creditor.id },
      today: DateTime.now().setZone(paymentsConfig.timeZone).toISODate(),
    })
  }

  async saveMandate(ctx: HttpContext) {
    const { auth, bouncer, request, response, session, i18n } = ctx
    await bouncer.authorize('permission', 'billing.payment.manage')
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    const input = await request.validateUsing(mandateValidator, {
      messagesProvider: paymentMessages(i18n),
    })
    await this.details.saveMandate(
      company,
      {
        accountHolder: input.account_holder,
        iban: input.iban,
        bic: input.bic || null,
        signedOn: DateTime.fromISO(input.signed_on, { zone: paymentsConfig.timeZone }),
        scheme: input.scheme,
      },
      user,
      request.ip()
    )
    session.flash('notice', i18n.t('payments.details.mandate_saved'))
    return response.redirect().toRoute('customer.payments.details')
  }

  /** The invoice e-mail address (BT-49 unless a Leitweg-ID; reminders go there too), audited. */
  async saveInvoiceEmail({ auth, bouncer, request, response, session, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'billing.payment.manage')
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    const input = await request.validateUsing(invoiceEmailValidator, {
      messagesProvider: paymentMessages(i18n),
    })
    await this.details.saveInvoiceEmail(company, input.invoice_email || null, user, request.ip())
    session.flash('notice', i18n.t('payments.details.invoice_email_saved'))
    return response.redirect().toRoute('customer.payments.details')
  }

  async chooseTransfer({ auth, bouncer, request, response, session, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'billing.payment.manage')
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    await this.details.chooseBankTransfer(company, user, request.ip())
    session.flash('notice', i18n.t('payments.details.transfer_saved'))
    return response.redirect().toRoute('customer.payments.details')
  }
}
