import { Counter, Histogram } from 'prom-client'
import metrics from '#core/services/metrics'

export const httpRequests = new Counter({
  name: 'fluffycall_http_requests_total',
  help: 'HTTP requests answered, by route name (or pattern) and status code',
  labelNames: ['route', 'method', 'status'] as const,
  registers: [metrics],
})

export const httpDuration = new Histogram({
  name: 'fluffycall_http_request_duration_seconds',
  help: 'Time from the request until its answer was sent, by route name',
  labelNames: ['route', 'method'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metrics],
})

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/**
 * The label of a request: the route's name, else its pattern (`/app/calls/:id`, never the filled-in
 * URL, which may hold ids), else `unmatched` (404s and static files would explode the series).
 */
export function routeLabel(route: { name?: string; pattern?: string } | undefined) {
  return route?.name ?? route?.pattern ?? 'unmatched'
}

export function methodLabel(method: string | undefined) {
  const upper = (method ?? '').toUpperCase()
  return METHODS.has(upper) ? upper : 'OTHER'
}
