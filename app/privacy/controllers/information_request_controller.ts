import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { INFORMATION_TOPICS } from '#privacy/models/information_request'
import InformationRequestService from '#privacy/services/information_request_service'
import { informationRequestValidator } from '#privacy/validators/information_request_validator'

/** Public form: a visitor asks for further information; the request lands in the privacy queue. */
@inject()
export default class InformationRequestController {
  constructor(protected requests: InformationRequestService) {}

  async create({ view }: HttpContext) {
    return view.render('pages/public/transparency/request', { topics: INFORMATION_TOPICS })
  }

  async store({ request, response, session, i18n }: HttpContext) {
    const data = await request.validateUsing(informationRequestValidator)
    await this.requests.submit(data, i18n.locale)
    session.flash('notice', i18n.t('transparency.request.sent'))
    return response.redirect().toRoute('transparency.request.create')
  }
}
