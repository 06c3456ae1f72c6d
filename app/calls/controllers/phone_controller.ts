import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import WebPhoneCredentialService, { ECHO_TEST_NUMBER } from '#calls/services/web_phone_credential_service'

/** Texts the page's script shows (states, errors, notification); the page passes them as data. */
const SCRIPT_TEXTS = [
  'state.connecting',
  'state.registered',
  'state.unregistered',
  'state.disconnected',
  'state.logged_out',
  'state.calling',
  'state.ringing',
  'state.incoming',
  'state.in_call',
  'state.on_hold',
  'state.busy',
  'state.unreachable',
  'state.refused',
  'state.ended',
  'state.failed',
  'state.no_microphone',
  'error.invalid_number',
  'error.credential',
  'notification.title',
  'notification.body',
  'notification.withheld',
  'quality.good',
  'quality.fair',
  'quality.poor',
  'quality.summary',
  'device.default',
  'hold',
  'resume',
  'mute',
  'unmute',
] as const

/** The script fills these placeholders itself; ICU must leave them in the text. */
const SCRIPT_PLACEHOLDERS = Object.fromEntries(
  ['reason', 'caller', 'mos', 'loss', 'jitter', 'rtt'].map((name) => [name, `{${name}}`])
)

/** The web phone page and its SIP login endpoint. */
@inject()
export default class PhoneController {
  constructor(protected credentials: WebPhoneCredentialService) {}

  async show({ view, bouncer, auth, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    const texts = Object.fromEntries(SCRIPT_TEXTS.map((key) => [key, i18n.t(`phone.script.${key}`, SCRIPT_PLACEHOLDERS)]))
    return view.render('pages/customer/phone', {
      defaultCountry: company.country,
      echoNumber: ECHO_TEST_NUMBER,
      companyStatus: company.status,
      texts: JSON.stringify(texts),
    })
  }

  /**
   * A fresh SIP login for this browser session (web session + CSRF). The password is in this
   * response only; the server keeps its HA1 values.
   */
  async credential({ auth, bouncer, session, request, response }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    const login = await this.credentials.issue(auth.getUserOrFail(), {
      sessionId: session.sessionId,
      ip: request.ip(),
    })
    response.header('Cache-Control', 'no-store')
    return login
  }
}
