import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig, webPhoneOrigins } from '#sip'
import { parseTrustedProxies } from '#core/proxy_trust'

/** Tests bind ephemeral ports (0) and read them back, so parallel runs never collide. */
function port(value: number | undefined, fallback: number): number {
  return value ?? (app.inTest ? 0 : fallback)
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
}

const enabled = new Set(list(env.get('SIP_TRANSPORTS') ?? 'udp,tcp,tls,ws'))

const sipConfig = defineConfig({
  host: env.get('SIP_HOST') ?? '127.0.0.1',
  publicHost: env.get('SIP_PUBLIC_HOST'),
  udp: { enabled: enabled.has('udp'), port: port(env.get('SIP_UDP_PORT'), 5060) },
  tcp: { enabled: enabled.has('tcp'), port: port(env.get('SIP_TCP_PORT'), 5060) },
  tls: {
    enabled: enabled.has('tls'),
    port: port(env.get('SIP_TLS_PORT'), 5061),
    certPath: env.get('SIP_TLS_CERT_PATH'),
    keyPath: env.get('SIP_TLS_KEY_PATH'),
    verifyPeers: app.inProduction,
    handshakeTimeoutMs: 10_000,
  },
  ws: {
    enabled: enabled.has('ws'),
    path: '/sip',
    // The web phone is served by this app, so its own origin is the one to allow by default.
    allowedOrigins: env.get('SIP_WS_ALLOWED_ORIGINS')
      ? list(env.get('SIP_WS_ALLOWED_ORIGINS'))
      : webPhoneOrigins(env.get('APP_URL'), app.inProduction),
    trustedProxies: parseTrustedProxies(env.get('TRUSTED_PROXIES')),
  },
  // SIP fronts (Kamailio) whose X-FluffyCall-Source names a request's real source; none by default.
  trustedFronts: list(env.get('SIP_TRUSTED_FRONTS')),
  limits: {
    maxMessageSize: 64 * 1024,
    maxConnectionsPerSource: 100,
    maxConnections: 10_000,
    // Longer than a web phone's re-registration interval, so an idle registered phone stays
    // reachable over its connection.
    idleTimeoutMs: 15 * 60 * 1000,
  },
  rateLimit: {
    enabled: true,
    // A carrier trunk at 50 calls/s sends about 250 messages/s; a flood is far above that.
    burst: 400,
    perSecond: 300,
    maxSources: 50_000,
    // Our carriers' signalling sources (their hosts and declared ranges) at carrier scale.
    trusted: { burst: 5000, perSecond: env.get('SIP_CARRIER_MESSAGES_PER_SECOND') ?? 3000 },
  },
  // RFC 3261 defaults; a test or a slow link may change them (Timer B/F = 64*T1).
  timers: {
    t1: env.get('SIP_TIMER_T1') ?? 500,
    t2: env.get('SIP_TIMER_T2') ?? 4000,
    t4: env.get('SIP_TIMER_T4') ?? 5000,
  },
  carrierHealth: {
    // Tests run it by hand on their own carriers (tests/e2e/calls/carrier_health_*.spec.ts).
    automatic: !app.inTest,
    syncIntervalMs: 30_000,
    registrationRetryBaseMs: 10_000,
    registrationRetryMaxMs: 600_000,
  },
})

export default sipConfig
