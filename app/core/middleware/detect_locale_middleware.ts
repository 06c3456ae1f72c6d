import { I18n } from '@adonisjs/i18n'
import i18nManager from '@adonisjs/i18n/services/main'
import type { NextFn } from '@adonisjs/core/types/http'
import { type HttpContext, RequestValidator } from '@adonisjs/core/http'

export const LOCALE_COOKIE = 'locale'

/**
 * Chooses the page language: the visitor's explicit choice (cookie) first, then the browser's
 * Accept-Language, then German. Validation messages come from the same translations.
 */
export default class DetectLocaleMiddleware {
  static {
    RequestValidator.messagesProvider = (ctx) => ctx.i18n.createMessagesProvider()
  }

  protected getRequestLocale(ctx: HttpContext) {
    const chosen = ctx.request.plainCookie(LOCALE_COOKIE, { encoded: false })
    if (typeof chosen === 'string' && i18nManager.supportedLocales().includes(chosen)) {
      return chosen
    }
    return i18nManager.getSupportedLocaleFor(ctx.request.languages()) ?? i18nManager.defaultLocale
  }

  async handle(ctx: HttpContext, next: NextFn) {
    ctx.i18n = i18nManager.locale(this.getRequestLocale(ctx))
    ctx.containerResolver.bindValue(I18n, ctx.i18n)
    if ('view' in ctx) {
      ctx.view.share({ i18n: ctx.i18n, t: ctx.i18n.t.bind(ctx.i18n), locale: ctx.i18n.locale })
    }
    return next()
  }
}

declare module '@adonisjs/core/http' {
  export interface HttpContext {
    i18n: I18n
  }
}
