import { inject } from '@adonisjs/core'
import vine from '@vinejs/vine'
import type { HttpContext } from '@adonisjs/core/http'
import CallHistoryService from '#calls/services/call_history_service'

const historyQueryValidator = vine.create({
  page: vine.number().withoutDecimals().min(1).max(100_000).optional(),
  scope: vine.enum(['own', 'company']).optional(),
})

/** The call history: one's own calls, or the company's for those with `calls.history.company`. */
@inject()
export default class CallHistoryController {
  constructor(protected history: CallHistoryService) {}

  async index({ view, bouncer, auth, request }: HttpContext) {
    await bouncer.authorize('permission', 'calls.history.view')
    const { page = 1, scope = 'own' } = await historyQueryValidator.validate(request.qs())
    if (scope === 'company') await bouncer.authorize('permission', 'calls.history.company')
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    const { paginator, entries } = await this.history.page(user, {
      scope,
      page,
      itemised: company.itemisedNumbers,
    })
    paginator.baseUrl(request.url()).queryString({ scope })
    return view.render('pages/customer/calls', {
      paginator,
      entries,
      scope,
      itemised: company.itemisedNumbers,
    })
  }
}
