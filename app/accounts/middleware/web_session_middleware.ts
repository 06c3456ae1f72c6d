import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import type WebSession from '#accounts/models/web_session'
import WebSessionService, { clientFacts } from '#accounts/services/web_session_service'

/**
 * Runs after silent auth on every request: a logged-in session must be live in the register
 * (not logged out, revoked, expired; its user not disabled, its company not terminated). A
 * session that is over is logged out here, so the request continues as a visitor's and the
 * auth middleware sends it to the login page.
 */
export default class WebSessionMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    const user = ctx.auth.user
    if (user) {
      const live = await new WebSessionService().verify(
        user,
        ctx.session.sessionId,
        clientFacts(ctx.request)
      )
      if (live) {
        ctx.webSession = live
      } else {
        await ctx.auth.use('web').logout()
        ctx.session.clear()
        ctx.session.regenerate()
      }
    }
    return next()
  }
}

declare module '@adonisjs/core/http' {
  export interface HttpContext {
    /** The live registered session of a logged-in request. */
    webSession?: WebSession
  }
}
