import type { HttpContext } from '@adonisjs/core/http'
import i18nManager from '@adonisjs/i18n/services/main'
import { LOCALE_COOKIE } from '#core/middleware/detect_locale_middleware'

export default class LocaleController {
  /** Remembers the chosen language for a year and returns to the page the visitor was on. */
  async update({ params, response, request }: HttpContext) {
    if (i18nManager.supportedLocales().includes(params.locale)) {
      response.plainCookie(LOCALE_COOKIE, params.locale, { maxAge: '1y', encode: false, httpOnly: true, sameSite: 'lax' })
    }
    const back = URL.parse(request.header('referer') ?? '/', `http://${request.host()}`)
    const sameSite = back !== null && back.host === request.host()
    return response.redirect(sameSite ? `${back.pathname}${back.search}` : '/')
  }
}
