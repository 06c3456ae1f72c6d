import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import HealthController from '#core/controllers/health_controller'

/** The probes, by path: answered before the router's session, shield and auth middleware. */
const PROBES: Record<string, { name: string; answer: keyof HealthController }> = {
  '/healthz': { name: 'health.alive', answer: 'alive' },
  '/readyz': { name: 'health.ready', answer: 'ready' },
}

/**
 * A load balancer's probe (/healthz, /readyz) is answered here, ahead of the router's middleware:
 * it makes no session (one a probe, every few seconds, for 8 hours each) and does not depend on
 * the session store, so /readyz can say that Redis is out of reach instead of failing on the
 * session it never needed. The routes stay in start/routes (the route list, the access matrix).
 */
export default class ProbeMiddleware {
  handle(ctx: HttpContext, next: NextFn) {
    const method = ctx.request.method()
    const probe = method === 'GET' || method === 'HEAD' ? PROBES[ctx.request.url()] : undefined
    if (!probe) return next()
    // The request metrics name the route as they would have had the router answered.
    ctx.route = { name: probe.name, pattern: ctx.request.url() } as HttpContext['route']
    return new HealthController()[probe.answer](ctx)
  }
}
