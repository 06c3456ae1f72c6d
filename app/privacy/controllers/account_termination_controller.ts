import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { formatDate } from '#core/formatting'
import AccountTerminationService, {
  TerminationError,
  terminationEndsAt,
} from '#privacy/services/account_termination_service'
import { terminationValidator } from '#privacy/validators/data_subject_request_validator'

/** The owner ends the company's account (or withdraws the termination before the end date). */
@inject()
export default class AccountTerminationController {
  constructor(protected terminations: AccountTerminationService) {}

  async show({ view, auth, response, i18n }: HttpContext) {
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    if (!(await this.terminations.isOwner(user, company)))
      return response.forbidden(i18n.t('privacy.termination.owner_only'))
    const pending = await this.terminations.pending(company.id)
    const now = this.terminations.now()
    const endsAt = company.terminatedAt ?? pending?.endsAt ?? null
    return view.render('pages/customer/account_end', {
      pending,
      ended: company.status === 'terminated',
      facts: this.terminations.facts(endsAt ?? terminationEndsAt(now)),
    })
  }

  async store({ auth, request, response, session, i18n }: HttpContext) {
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    if (!(await this.terminations.isOwner(user, company)))
      return response.forbidden(i18n.t('privacy.termination.owner_only'))
    const data = await request.validateUsing(terminationValidator)
    try {
      const termination = await this.terminations.terminate(
        user,
        company,
        data.company_name,
        request.ip()
      )
      session.flash(
        'notice',
        i18n.t('privacy.termination.done', {
          date: formatDate(this.terminations.facts(termination.endsAt).lastDay, i18n.locale),
        })
      )
    } catch (error) {
      if (!(error instanceof TerminationError)) throw error
      session.flash('error', i18n.t(`privacy.termination.error_${error.reason}`))
    }
    return response.redirect().toRoute('customer.account.end')
  }

  async withdraw({ auth, request, response, session, i18n }: HttpContext) {
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    if (!(await this.terminations.isOwner(user, company)))
      return response.forbidden(i18n.t('privacy.termination.owner_only'))
    try {
      await this.terminations.withdraw(user, company, request.ip())
      session.flash('notice', i18n.t('privacy.termination.withdrawn'))
    } catch (error) {
      if (!(error instanceof TerminationError)) throw error
      session.flash('error', i18n.t(`privacy.termination.error_${error.reason}`))
    }
    return response.redirect().toRoute('customer.account.end')
  }
}
