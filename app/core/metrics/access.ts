import { timingSafeEqual } from 'node:crypto'

export interface MetricsAccessOptions {
  /** METRICS_TOKEN; empty or undefined means unset. */
  token: string | undefined
  production: boolean
  /** The Authorization header as received. */
  authorization: string | undefined
  /** The socket's peer address (never X-Forwarded-For: a proxy in front must not open it). */
  remoteAddress: string | undefined
}

export type MetricsAccess = 'allowed' | 'unauthorized' | 'disabled'

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1'])

/**
 * Who may scrape /metrics. With METRICS_TOKEN set: whoever sends `Authorization: Bearer <token>`
 * (RFC 6750), compared in constant time. Without it, production answers 404 (the endpoint is off);
 * development and tests answer the loopback address only.
 */
export function metricsAccess(options: MetricsAccessOptions): MetricsAccess {
  const token = options.token?.trim()
  if (token) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(options.authorization ?? '')
    if (!match) return 'unauthorized'
    const given = Buffer.from(match[1])
    const expected = Buffer.from(token)
    return given.length === expected.length && timingSafeEqual(given, expected)
      ? 'allowed'
      : 'unauthorized'
  }
  if (options.production) return 'disabled'
  return LOOPBACK.has(options.remoteAddress ?? '') ? 'allowed' : 'disabled'
}
