import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import LiveCallService from '#calls/services/live_call_service'

/** Staff: the calls running on this node, and ending one (calls.live.manage, audited). */
@inject()
export default class LiveCallsController {
  constructor(protected liveCalls: LiveCallService) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('LiveCallPolicy').authorize('manage')
    return view.render('pages/admin/calls/live', await this.liveCalls.list())
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
