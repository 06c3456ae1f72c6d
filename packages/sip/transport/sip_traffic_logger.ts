import { createHash } from 'node:crypto'
import SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import type SipMessage from '#sip/message/sip_message'
import type SipParseError from '#sip/message/sip_parse_error'
import type { SipTransportProtocol } from '#sip/transaction/transaction_transport'
import SipTrafficStats from '#sip/transport/sip_traffic_stats'

/** The subset of a pino-style logger the SIP layer writes to (the Adonis app logger fits). */
export interface SipLogger {
  debug(bindings: object, message: string): void
  info(bindings: object, message: string): void
  warn(bindings: object, message: string): void
  error(bindings: object, message: string): void
  /** pino's: when it says debug is off, the per-message lines are not even described. */
  isLevelEnabled?(level: string): boolean
}

export interface TrafficPeer {
  protocol: SipTransportProtocol
  address: string
  port: number
  connectionId?: string
  /** The real source a trusted SIP front named (X-FluffyCall-Source), `<proto>:<ip>:<port>`. */
  client?: string
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: SipLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
}

/**
 * Structured logs of SIP traffic. Only the start line's method or status, CSeq, a hash of the
 * Call-ID (to correlate without storing it) and the peer: never bodies (SDP), URIs or From/To
 * (phone numbers), nor credentials. Per-message lines are at debug level so that production
 * logs stay small; refusals and failures are at warn.
 */
export default class SipTrafficLogger {
  readonly #logger: SipLogger
  /** Every message in and out passes here, so the traffic counters live here too. */
  readonly stats = new SipTrafficStats()

  constructor(logger: SipLogger) {
    this.#logger = logger
  }

  received(message: SipMessage, peer: TrafficPeer): void {
    this.stats.count(message, 'in')
    if (this.#logger.isLevelEnabled?.('debug') === false) return
    this.#logger.debug({ ...this.#describe(message), ...peerFields(peer) }, 'sip message received')
  }

  sent(message: SipMessage, peer: TrafficPeer): void {
    this.stats.count(message, 'out')
    if (this.#logger.isLevelEnabled?.('debug') === false) return
    this.#logger.debug({ ...this.#describe(message), ...peerFields(peer) }, 'sip message sent')
  }

  parseFailed(error: SipParseError, peer: TrafficPeer, answered: number | undefined): void {
    this.stats.parseFailures++
    this.#logger.debug(
      { reason: error.reason, detail: error.detail, answered, ...peerFields(peer) },
      'sip message rejected by the parser'
    )
  }

  /** A source went over its rate limit (logged once per flood; each dropped message is `dropped()`). */
  rateLimited(peer: TrafficPeer): void {
    this.stats.floodLimitedSources++
    this.#logger.warn(peerFields(peer), 'sip source over its rate limit, messages dropped')
  }

  dropped(): void {
    this.stats.rateLimitedMessages++
  }

  connectionRefused(peer: TrafficPeer, reason: string): void {
    this.#logger.warn({ reason, ...peerFields(peer) }, 'sip connection refused')
  }

  failure(context: string, error: unknown, peer?: TrafficPeer): void {
    const detail = escapeControls(
      error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    )
    this.#logger.warn({ context, error: detail, ...(peer ? peerFields(peer) : {}) }, 'sip failure')
  }

  info(bindings: object, message: string): void {
    this.#logger.info(bindings, message)
  }

  #describe(message: SipMessage): Record<string, unknown> {
    const fields: Record<string, unknown> =
      message instanceof SipRequest
        ? { method: message.method }
        : { status: (message as SipResponse).status }
    const callId = message.headers.get('call-id')
    if (callId !== undefined) {
      fields.callIdHash = createHash('sha256').update(callId).digest('hex').slice(0, 16)
    }
    const cseq = message.headers.get('cseq')
    if (cseq !== undefined) {
      fields.cseq = escapeControls(cseq.slice(0, 40))
    }
    fields.bodyBytes = message.body.length
    return fields
  }
}

function peerFields(peer: TrafficPeer): Record<string, unknown> {
  return {
    protocol: peer.protocol,
    peer: `${peer.address}:${peer.port}`,
    ...(peer.connectionId ? { connectionId: peer.connectionId } : {}),
    ...(peer.client ? { client: peer.client } : {}),
  }
}

/** Control characters as \xNN: a peer's bytes never reach a terminal or log viewer as controls. */
export function escapeControls(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex -- control characters are what this escapes
    /[\x00-\x1f\x7f]/g,
    (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`
  )
}
