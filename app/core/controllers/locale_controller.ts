import type { HttpContext } from '@adonisjs/core/http'
import i18nManager from '@adonisjs/i18n/services/main'
import { LOCALE_COOKIE } from '#core/middleware/detect_locale_middleware'

/**
 * The path of a Referer on our own host, else '/'. Leading slashes and backslashes are collapsed
 * into one: a browser reads `//host/x` (and `/\host/x`) as another site.
 */
export function ownPath(referer: string | undefined, host: string) {
  const back = URL.parse(referer ?? '/', `http://${host}`)
  if (!back || back.host !== host) return '/'
  return `${back.pathname.replace(/^[/\\]+/, '/')}${back.search}`
}

export default class LocaleController {
  /** Remembers the chosen language for a year and returns to the page the visitor was on. */
  async update({ params, response, request }: HttpContext) {
    if (i18nManager.supportedLocales().includes(params.locale)) {
      response.plainCookie(LOCALE_COOKIE, params.locale, {
        maxAge: '1y',
        encode: false,
        httpOnly: true,
        sameSite: 'lax',
      })
    }
    return response.redirect(ownPath(request.header('referer'), request.host() ?? ''))
  }
}
