import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { httpDuration, httpRequests, methodLabel, routeLabel } from '#core/metrics/http_metrics'

/**
 * Counts every answered request by route name and status. Measured when the answer has been
 * written ('finish'), so requests that end in the exception handler count with their real status.
 */
export default class HttpMetricsMiddleware {
  handle(ctx: HttpContext, next: NextFn) {
    const started = process.hrtime.bigint()
    const raw = ctx.response.response
    raw.once('finish', () => {
      const route = routeLabel(ctx.route)
      const method = methodLabel(ctx.request.method())
      httpRequests.inc({ route, method, status: String(raw.statusCode) })
      httpDuration.observe({ route, method }, Number(process.hrtime.bigint() - started) / 1e9)
    })
    return next()
  }
}
