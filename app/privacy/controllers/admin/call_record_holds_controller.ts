import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import vine from '@vinejs/vine'
import Company from '#accounts/models/company'
import CallRecordHold from '#privacy/models/call_record_hold'
import CallRecordHoldService from '#privacy/services/call_record_hold_service'

const holdValidator = vine.create({
  company_id: vine.number().positive(),
  from_day: vine.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  until_day: vine.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  reason: vine.string().trim().minLength(3).maxLength(500),
})

/** Holds on call records for billing disputes (TDDDG § 10). */
@inject()
export default class CallRecordHoldsController {
  constructor(protected holds: CallRecordHoldService) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('CallRecordHoldPolicy').authorize('manage')
    const holds = await CallRecordHold.query()
      .orderByRaw('case when released_at is null then 0 else 1 end')
      .orderBy('id', 'desc')
    const companies = await Company.query().orderBy('legal_name')
    return view.render('pages/admin/privacy/call_record_holds', {
      holds,
      companies,
      names: new Map(companies.map((company) => [company.id, company.legalName])),
    })
  }

  async store({ request, response, bouncer, auth, session, i18n }: HttpContext) {
    await bouncer.with('CallRecordHoldPolicy').authorize('manage')
    const data = await request.validateUsing(holdValidator)
    if (data.until_day < data.from_day) {
      session.flashErrors({ until_day: i18n.t('privacy.holds.order') })
      return response.redirect().back()
    }
    await Company.findOrFail(data.company_id)
    await this.holds.place(
      auth.getUserOrFail(),
      {
        companyId: data.company_id,
        fromDay: data.from_day,
        untilDay: data.until_day,
        reason: data.reason,
      },
      request.ip()
    )
    session.flash('notice', i18n.t('privacy.holds.placed'))
    return response.redirect().toRoute('admin.privacy.holds.index')
  }

  async release({ params, request, response, bouncer, auth, session, i18n }: HttpContext) {
    await bouncer.with('CallRecordHoldPolicy').authorize('manage')
    const hold = await CallRecordHold.findOrFail(params.id)
    await this.holds.release(auth.getUserOrFail(), hold, request.ip())
    session.flash('notice', i18n.t('privacy.holds.released'))
    return response.redirect().toRoute('admin.privacy.holds.index')
  }
}
