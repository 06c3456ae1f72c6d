import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import InformationRequest from '#privacy/models/information_request'
import InformationRequestService from '#privacy/services/information_request_service'

/** Staff with privacy.requests.handle: the queue of information requests. */
@inject()
export default class InformationRequestsController {
  constructor(protected requests: InformationRequestService) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('InformationRequestPolicy').authorize('handle')
    return view.render('pages/admin/privacy/information_requests', {
      requests: await this.requests.queue(),
    })
  }

  async answer({ params, request, response, bouncer, auth }: HttpContext) {
    await bouncer.with('InformationRequestPolicy').authorize('handle')
    const entry = await InformationRequest.findOrFail(params.id)
    await this.requests.markAnswered(entry, auth.getUserOrFail(), request.ip())
    return response.redirect().toRoute('admin.privacy.requests.index')
  }
}
