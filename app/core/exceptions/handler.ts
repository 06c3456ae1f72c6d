import app from '@adonisjs/core/services/app'
import { type HttpContext, ExceptionHandler } from '@adonisjs/core/http'
import type { StatusPageRange, StatusPageRenderer } from '@adonisjs/core/types/http'
import { errors as bouncerErrors } from '@adonisjs/bouncer'
import { ReadOnlyValuesStore } from '@adonisjs/session'
import { Exception } from '@adonisjs/core/exceptions'
import DetectLocaleMiddleware from '#core/middleware/detect_locale_middleware'
import { isRedisUnavailable } from '#core/redis_unavailable'
import { isDatabaseUnavailable } from '#core/database_unavailable'

/** Seconds a client is asked to wait when a service we depend on is out of reach. */
export const RETRY_AFTER_SECONDS = 30

/** Redis or the database out of reach: a 503 the user is told to retry, not a 500 we are "on". */
export class ServiceUnavailableException extends Exception {
  static status = 503
  static code = 'E_SERVICE_UNAVAILABLE'
}

/** Request headers whose values are credentials: the development error page shows their names only. */
const SECRET_HEADERS = new Set([
  'cookie',
  'authorization',
  'proxy-authorization',
  'x-csrf-token',
  'x-xsrf-token',
])

/** The request as the development error page may show it: no cookie, session or credential values. */
export function redactedRequest(ctx: HttpContext) {
  const headers: Record<string, string | string[] | undefined> = {}
  for (const [name, value] of Object.entries(ctx.request.headers())) {
    headers[name] = SECRET_HEADERS.has(name) ? '[redacted]' : value
  }
  return { url: ctx.request.url(true), method: ctx.request.method(), headers }
}

/**
 * Users get our own 403/404/500 pages; stack traces are shown only in development, and never
 * with the request's cookie, session or authorization values (`bin/start` runs in development).
 */
export default class HttpExceptionHandler extends ExceptionHandler {
  protected debug = !app.inProduction
  protected renderStatusPages = !app.inDev

  protected statusPages: Record<StatusPageRange, StatusPageRenderer> = {
    '403': (error, { view }) => view.render('pages/errors/forbidden', { error }),
    '404': (error, { view }) => view.render('pages/errors/not_found', { error }),
    '500..599': (error, { view }) => view.render('pages/errors/server_error', { error }),
  }

  /**
   * A URL that matches no route fails before the router middleware ran: no session and no
   * translations yet. Give the error pages what the layouts expect.
   */
  protected async prepareView(ctx: HttpContext, sessionFailed = false) {
    if (!('view' in ctx)) return
    if (!ctx.i18n) await new DetectLocaleMiddleware().handle(ctx, async () => {})
    if (sessionFailed || !('session' in ctx) || !ctx.session) {
      const empty = new ReadOnlyValuesStore({})
      ctx.view.share({ flashMessages: empty, session: empty, old: () => undefined })
    }
  }

  async handle(error: unknown, ctx: HttpContext) {
    if (isRedisUnavailable(error) || isDatabaseUnavailable(error)) {
      // The session lives there too (Redis or the database store): rendered without it.
      await this.prepareView(ctx, true)
      ctx.response.header('Retry-After', String(RETRY_AFTER_SECONDS))
      return super.handle(
        new ServiceUnavailableException('A service we depend on is out of reach', {
          cause: error,
        }),
        ctx
      )
    }
    await this.prepareView(ctx)
    if (
      error instanceof bouncerErrors.E_AUTHORIZATION_FAILURE &&
      ctx.request.accepts(['html', 'json']) === 'html'
    ) {
      // The handler's return value is not the response body: send the page explicitly
      return ctx.response
        .status(403)
        .send(await ctx.view.render('pages/errors/forbidden', { error }))
    }
    return super.handle(error, ctx)
  }

  /** Youch's debug page, given the redacted request instead of the raw one. */
  async renderErrorAsHTML(error: any, ctx: HttpContext) {
    if (this.renderStatusPages || !this.isDebuggingEnabled(ctx))
      return super.renderErrorAsHTML(error, ctx)
    const { Youch } = await import('youch')
    const html = await new Youch().toHTML(error, {
      request: redactedRequest(ctx),
      cspNonce: 'nonce' in ctx.response ? (ctx.response.nonce as string) : undefined,
    })
    ctx.response.status(error.status ?? 500).send(html)
  }

  async report(error: unknown, ctx: HttpContext) {
    return super.report(error, ctx)
  }
}
