import type {
  SipDestination,
  SipTransportProtocol,
  TransactionTransport,
} from '#sip/transaction/transaction_transport'

/** An address a transport listens on or a peer sends from. IPv6 without brackets. */
export interface TransportAddress {
  host: string
  port: number
}

/** Where a datagram or a framed stream message came from, before it is parsed. */
export interface PacketOrigin {
  transport: SipTransport
  protocol: SipTransportProtocol
  /** The peer's address as seen on the socket, or the client behind a trusted proxy (WebSocket). */
  address: string
  port: number
  /** Set for stream transports: the connection the bytes arrived on. */
  connectionId?: string
}

/** What a transport hands its bytes to: the transport layer, which parses them in one place. */
export interface TransportReceiver {
  receive(bytes: Buffer, origin: PacketOrigin): void
}

/**
 * One transport (UDP, TCP, TLS, WebSocket). Transports move bytes and manage sockets and
 * connections; parsing, rate limiting and Via stamping happen in the transport layer above.
 */
export interface SipTransport extends TransactionTransport {
  /** The protocols this transport carries (the WebSocket transport carries ws and wss). */
  readonly protocols: readonly SipTransportProtocol[]
  /** The bound address once listening; undefined for transports served by another server. */
  readonly localAddress: TransportAddress | undefined
  listen(): Promise<void>
  /** Writes raw bytes (keep-alive replies); throws when the destination cannot be reached. */
  sendBytes(bytes: Buffer, destination: SipDestination): void
  /** True when the connection still exists (stream transports); false for datagrams. */
  hasConnection(connectionId: string): boolean
  close(): Promise<void>
}
