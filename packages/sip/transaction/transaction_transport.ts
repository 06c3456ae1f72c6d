import type SipMessage from '#sip/message/sip_message'

export type SipTransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss'

/** Where a message goes: an address, and for stream transports the connection to use. */
export interface SipDestination {
  protocol: SipTransportProtocol
  /** IPv6 addresses without brackets. */
  host: string
  port: number
  /** The connection a request arrived on, so that its responses go back on it (RFC 3261 18.2.2). */
  connectionId?: string
  /** The name `host` was resolved from: TLS sends it as SNI and checks the certificate against it. */
  hostname?: string
}

/**
 * The transport seam of the transaction layer. `reliable` decides whether the transaction
 * retransmits (RFC 3261 17: only over unreliable transports). `send` may throw; the transaction
 * then reports a transport error to its user and terminates (RFC 3261 17.1.4). A failure found
 * after `send` returned (a TCP/TLS connection that could not be opened) goes to `onLateError`.
 */
export interface TransactionTransport {
  readonly reliable: boolean
  send(
    message: SipMessage,
    destination: SipDestination,
    onLateError?: (error: unknown) => void
  ): void
}
