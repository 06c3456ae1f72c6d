import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import WebPhoneCredentialService from '#calls/services/web_phone_credential_service'

/** The web phone page and its SIP login endpoint. The phone itself is docked on every customer page. */
@inject()
export default class PhoneController {
  constructor(protected credentials: WebPhoneCredentialService) {}

  async show({ view, bouncer }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    return view.render('pages/customer/phone')
  }

  /**
   * A fresh SIP login for this browser session (web session + CSRF). The password is in this
   * response only; the server keeps its HA1 values.
   */
  async credential({ auth, bouncer, session, request, response, webSession }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    const login = await this.credentials.issue(auth.getUserOrFail(), {
      sessionId: session.sessionId,
      webSessionId: webSession?.id ?? null,
      ip: request.ip(),
    })
    response.header('Cache-Control', 'no-store')
    return login
  }
}
