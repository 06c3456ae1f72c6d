import { inject } from '@adonisjs/core'
import vine from '@vinejs/vine'
import type { HttpContext } from '@adonisjs/core/http'
import LiveCallService from '#calls/services/live_call_service'
import CallQualityReport from '#calls/services/call_quality_report'

const liveQueryValidator = vine.create({
  sort: vine.enum(['started', 'quality']).optional(),
})
const pageValidator = vine.create({
  page: vine.number().withoutDecimals().min(1).max(100_000).optional(),
})

/**
 * Staff: the calls running on this node, and ending one (calls.live.manage, audited); the ended
 * calls with bad audio, worst first.
 */
@inject()
export default class LiveCallsController {
  constructor(
    protected liveCalls: LiveCallService,
    protected qualityReport: CallQualityReport
  ) {}

  async index({ view, bouncer, request }: HttpContext) {
    await bouncer.with('LiveCallPolicy').authorize('manage')
    const { sort = 'started' } = await liveQueryValidator.validate(request.qs())
    return view.render('pages/admin/calls/live', { ...(await this.liveCalls.list(sort)), sort })
  }

  async quality({ view, bouncer, request }: HttpContext) {
    await bouncer.with('LiveCallPolicy').authorize('manage')
    const { page = 1 } = await pageValidator.validate(request.qs())
    const report = await this.qualityReport.page(page)
    report.paginator.baseUrl(request.url())
    return view.render('pages/admin/calls/quality', { ...report, sort: 'ended' })
  }

  async destroy({ params, bouncer, response, session, auth, request, i18n }: HttpContext) {
    await bouncer.with('LiveCallPolicy').authorize('manage')
    const ended = await this.liveCalls.end(String(params.uuid), auth.getUserOrFail(), request.ip())
    session.flash(
      ended ? 'notice' : 'error',
      i18n.t(ended ? 'calls.live_ended' : 'calls.live_not_found')
    )
    return response.redirect().toRoute('admin.calls.live')
  }
}
