import type { SipTransportProtocol } from '#sip/transaction/transaction_transport'

/** One open stream connection (TCP, TLS or WebSocket), as the connection registry sees it. */
export interface StreamConnection {
  /** Unguessable, so that a connectionId from one peer cannot be guessed by another. */
  readonly id: string
  readonly protocol: SipTransportProtocol
  readonly remoteAddress: string
  readonly remotePort: number
  readonly closed: boolean
  /** WebSocket: the peer closed with a close frame rather than dropping the connection. */
  readonly closedCleanly?: boolean
  write(bytes: Buffer): void
  /** Closes the connection; `onClose` listeners run once. */
  close(): void
  onClose(listener: () => void): void
  /** Outbound connections: `listener` hears it when the connection could not be established. */
  onConnectFailure?(listener: (error: unknown) => void): void
}
