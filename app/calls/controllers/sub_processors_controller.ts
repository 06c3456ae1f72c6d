import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import CompanyNotice from '#calls/models/company_notice'
import CarrierDirectory from '#calls/services/carrier_directory'
import ObjectionService from '#calls/services/objection_service'

/** Customer area: the announced and active carriers, the company's notices, and objections. */
@inject()
export default class SubProcessorsController {
  constructor(
    protected directory: CarrierDirectory,
    protected objections: ObjectionService
  ) {}

  async index({ auth, view }: HttpContext) {
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    const notices = await CompanyNotice.query()
      .where('company_id', company.id)
      .orderBy('created_at', 'desc')
      .limit(20)
    return view.render('pages/customer/sub_processors', {
      carriers: await this.directory.published(),
      objected: await this.objections.objectionsOf(company),
      notices,
    })
  }

  async object({ auth, bouncer, params, request, response, session, i18n }: HttpContext) {
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    await bouncer.with('CarrierPolicy').authorize('object', company)
    const carrier = (await this.directory.published()).find(
      (view) => view.entry.name === params.name
    )
    if (!carrier) return response.notFound()
    await this.objections.object(company, carrier.entry.name, user, request.ip())
    session.flash('notice', i18n.t('carriers.objected', { name: carrier.entry.label }))
    return response.redirect().toRoute('customer.sub_processors')
  }
}
