import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import type { SipDestination, SipTransportProtocol } from '#sip/transaction/transaction_transport'
import type { SipTransport } from '#sip/transport/sip_transport'

/**
 * Where an incoming message came from. Shaped so that it can be passed as it is to
 * `TransactionManager.receiveRequest(request, source)`.
 */
export interface SipMessageSource {
  /** The transport the message arrived on; it sends the responses. */
  transport: SipTransport
  protocol: SipTransportProtocol
  /** The sender's address (the real client behind a trusted proxy for WebSocket). */
  address: string
  port: number
  /** The stream connection the message arrived on; absent for UDP. */
  connectionId?: string
  /**
   * Where responses to this request go: the same connection, or received/rport of the
   * top Via (RFC 3261 18.2.2, RFC 3581). Unset on responses.
   */
  responseDestination: SipDestination
}

/**
 * The layer above the transports (the dialog/UA core), attached with
 * `SipTransportLayer.attach(user)`. Both methods are called synchronously for every parsed,
 * rate-limited message; they must not throw (the layer catches and logs it if they do).
 * Requests arrive with `received`/`rport` already stamped on their top Via.
 */
export interface SipTransportUser {
  onRequest(request: SipRequest, source: SipMessageSource): void
  onResponse(response: SipResponse, source: SipMessageSource): void
}
