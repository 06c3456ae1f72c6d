import type {
  SipTransportProtocol,
  TransactionTransport,
} from '#sip/transaction/transaction_transport'

/**
 * What the user agent core needs from the transport layer: a transport per protocol to hand to
 * its transactions, and the address to put in Via and Contact. SipTransportLayer has this shape.
 */
export interface UserAgentTransport {
  transportFor(protocol: SipTransportProtocol): TransactionTransport
  /** Undefined when the transport is served by another server (WebSocket on the HTTP server). */
  localAddress(protocol: SipTransportProtocol): { host: string; port: number } | undefined
}
