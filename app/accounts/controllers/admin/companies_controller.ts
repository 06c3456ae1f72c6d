import { inject } from '@adonisjs/core'
import vine from '@vinejs/vine'
import type { HttpContext } from '@adonisjs/core/http'
import Company, { COMPANY_STATUSES } from '#accounts/models/company'
import CompanyService, { InvalidStatusTransition } from '#accounts/services/company_service'

const statusValidator = vine.create({
  status: vine.string().in(COMPANY_STATUSES as unknown as string[]),
  reason: vine.string().trim().maxLength(500).optional(),
})

const listValidator = vine.create({
  status: vine
    .string()
    .in(COMPANY_STATUSES as unknown as string[])
    .optional(),
})

/** Staff: the customer companies, approval of new ones, suspension and termination. */
@inject()
export default class CompaniesController {
  constructor(protected companies: CompanyService) {}

  async index({ request, view, bouncer }: HttpContext) {
    await bouncer.with('CompanyPolicy').authorize('viewAny')
    const { status } = await listValidator.validate(request.qs())
    const query = Company.query().withCount('users').orderBy('created_at', 'desc')
    if (status) query.where('status', status)
    return view.render('pages/admin/companies/index', { companies: await query, status })
  }

  async show({ params, view, bouncer }: HttpContext) {
    await bouncer.with('CompanyPolicy').authorize('viewAny')
    const company = await Company.query()
      .where('id', params.id)
      .preload('users', (q) => q.preload('role'))
      .firstOrFail()
    return view.render('pages/admin/companies/show', {
      company,
      transitions: this.companies.allowedTransitions(company),
    })
  }

  async updateStatus({ params, request, response, bouncer, auth, session, i18n }: HttpContext) {
    await bouncer.with('CompanyPolicy').authorize('changeStatus')
    const company = await Company.findOrFail(params.id)
    const { status, reason } = await request.validateUsing(statusValidator)
    try {
      await this.companies.changeStatus(
        company,
        status as Company['status'],
        auth.getUserOrFail(),
        request.ip(),
        reason
      )
      session.flash('notice', i18n.t('ui.admin.status_changed'))
    } catch (error) {
      if (!(error instanceof InvalidStatusTransition)) throw error
      session.flash('error', i18n.t('ui.admin.status_not_allowed'))
    }
    return response.redirect().toRoute('admin.companies.show', { id: company.id })
  }
}
