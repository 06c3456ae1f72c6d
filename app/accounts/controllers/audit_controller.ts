import { inject } from '@adonisjs/core'
import vine from '@vinejs/vine'
import type { HttpContext } from '@adonisjs/core/http'
import AuditQuery from '#accounts/services/audit_query'
import AuditPresenter from '#accounts/services/audit_presenter'

const filterValidator = vine.create({
  action: vine.string().trim().maxLength(60).optional(),
  actor: vine.string().trim().maxLength(254).optional(),
  company_id: vine.number().positive().optional(),
  from: vine
    .string()
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
  to: vine
    .string()
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
  page: vine.number().positive().optional(),
})

@inject()
export default class AuditController {
  constructor(protected audit: AuditQuery) {}

  /** Staff: every entry, filterable by company. */
  async admin({ request, view, bouncer, i18n }: HttpContext) {
    await bouncer.with('AuditPolicy').authorize('viewAll')
    const filters = await filterValidator.validate(request.qs())
    const entries = await this.audit.search({
      ...filters,
      companyId: filters.company_id,
      page: filters.page,
    })
    entries.baseUrl('/admin/audit')
    entries.queryString(request.qs())
    const presenter = new AuditPresenter(i18n)
    return view.render('pages/admin/audit', {
      entries,
      lines: await presenter.presentAll(entries.all()),
      actions: presenter.actionOptions(),
      filters,
    })
  }

  /** Customer admins: only their company's entries. */
  async company({ request, view, bouncer, auth, i18n }: HttpContext) {
    await bouncer.with('AuditPolicy').authorize('viewCompany')
    const filters = await filterValidator.validate(request.qs())
    const user = auth.getUserOrFail()
    const entries = await this.audit.search({
      ...filters,
      companyId: user.companyId!,
      page: filters.page,
    })
    entries.baseUrl('/app/audit')
    entries.queryString(request.qs())
    const presenter = new AuditPresenter(i18n)
    return view.render('pages/customer/audit', {
      entries,
      lines: await presenter.presentAll(entries.all()),
      actions: presenter.actionOptions(),
      filters,
    })
  }
}
