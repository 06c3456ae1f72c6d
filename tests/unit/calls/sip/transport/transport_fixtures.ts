import dgram from 'node:dgram'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SipClock } from '#sip/clock/sip_clock'
import SystemClock from '#sip/clock/system_clock'
import SipTransportLayer from '#sip/transport/sip_transport_layer'
import { loadTlsCredentials } from '#sip/transport/tls_credentials'
import type { SipTransportConfig } from '#sip/transport/sip_transport_config'
import type { SipLogger } from '#sip/transport/sip_traffic_logger'

export const TEST_ORIGIN = 'http://localhost:3411'

type ConfigOverrides = {
  [K in keyof SipTransportConfig]?: Partial<SipTransportConfig[K]> | SipTransportConfig[K]
}

/** Everything on 127.0.0.1 with ephemeral ports; each section can be overridden. */
export function testConfig(overrides: ConfigOverrides = {}): SipTransportConfig {
  const base: SipTransportConfig = {
    host: '127.0.0.1',
    udp: { enabled: true, port: 0 },
    tcp: { enabled: true, port: 0 },
    tls: { enabled: false, port: 0, verifyPeers: false, handshakeTimeoutMs: 5000 },
    ws: { enabled: false, path: '/sip', allowedOrigins: [TEST_ORIGIN], trustedProxies: [] },
    limits: {
      maxMessageSize: 64 * 1024,
      maxConnectionsPerSource: 10,
      maxConnections: 100,
      idleTimeoutMs: 30_000,
    },
    rateLimit: { enabled: false, burst: 100, perSecond: 100, maxSources: 1000 },
  }
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(overrides)) {
    const current = base[key as keyof SipTransportConfig]
    merged[key] =
      typeof current === 'object' && current !== null ? { ...current, ...(value as object) } : value
  }
  return merged as unknown as SipTransportConfig
}

/** Log lines kept in memory, so tests can check what is (and is not) written. */
export class MemoryLogger implements SipLogger {
  lines: Array<{ level: string; bindings: object; message: string }> = []
  debug(bindings: object, message: string) {
    this.lines.push({ level: 'debug', bindings, message })
  }
  info(bindings: object, message: string) {
    this.lines.push({ level: 'info', bindings, message })
  }
  warn(bindings: object, message: string) {
    this.lines.push({ level: 'warn', bindings, message })
  }
  error(bindings: object, message: string) {
    this.lines.push({ level: 'error', bindings, message })
  }
  get text(): string {
    return JSON.stringify(this.lines)
  }
}

export async function startLayer(
  overrides: ConfigOverrides = {},
  clock: SipClock = new SystemClock()
) {
  const logger = new MemoryLogger()
  const layer = new SipTransportLayer({
    config: testConfig(overrides),
    clock,
    logger,
    loadTlsCredentials: () =>
      loadTlsCredentials(
        {},
        { allowSelfSigned: true, selfSignedDirectory: join(tmpdir(), 'fluffycall-sip-tls-test') }
      ),
  })
  await layer.start()
  return { layer, logger }
}

export function optionsRequest(
  options: {
    branch?: string
    viaHost?: string
    viaPort?: number
    transport?: string
    callId?: string
  } = {}
): string {
  const transport = options.transport ?? 'UDP'
  return [
    'OPTIONS sip:fluffycall@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/${transport} ${options.viaHost ?? '192.0.2.1'}:${options.viaPort ?? 5060};branch=${options.branch ?? 'z9hG4bKopt1'};rport`,
    'Max-Forwards: 70',
    'To: <sip:fluffycall@127.0.0.1>',
    'From: <sip:ping@example.test>;tag=abc',
    `Call-ID: ${options.callId ?? 'opt-1@192.0.2.1'}`,
    'CSeq: 7 OPTIONS',
    'Authorization: Digest username="alice", realm="x", nonce="n", uri="sip:x", response="secret-response"',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n')
}

/** A UDP client socket on `host` that collects what it receives. */
export async function udpPeer(host = '127.0.0.1') {
  const socket = dgram.createSocket('udp4')
  const received: Buffer[] = []
  socket.on('message', (bytes) => received.push(bytes))
  await new Promise<void>((resolve) => socket.bind(0, host, () => resolve()))
  return {
    socket,
    received,
    port: socket.address().port,
    send(bytes: string | Buffer, port: number, target = '127.0.0.1') {
      return new Promise<void>((resolve, reject) =>
        socket.send(bytes, port, target, (error) => (error ? reject(error) : resolve()))
      )
    },
    close() {
      return new Promise<void>((resolve) => socket.close(() => resolve()))
    },
  }
}

export async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time')
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
