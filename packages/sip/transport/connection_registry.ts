import type SipMessage from '#sip/message/sip_message'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import type { StreamConnection } from '#sip/transport/stream_connection'
import type SipTrafficLogger from '#sip/transport/sip_traffic_logger'

export interface ConnectionRegistryOptions<T extends StreamConnection> {
  /** Logs what was sent; without it nothing is logged. */
  traffic?: SipTrafficLogger
  /**
   * Opens a connection when the destination has none (TCP, TLS); throws when there is nothing to
   * dial (WebSocket clients are reachable only over their own connection).
   */
  dial?: (destination: SipDestination) => T
  /** Told once per connection when it has closed, after it left the registry. */
  onClosed?: (connection: T) => void
}

/**
 * The open connections of one stream transport, by id and by remote host:port, so that a
 * response finds its connection and a new request reuses one to the same peer (RFC 3261 18.1.1).
 * It also sends over them, which is all TCP, TLS and WebSocket have in common on the way out.
 */
export default class ConnectionRegistry<T extends StreamConnection = StreamConnection> {
  #byId = new Map<string, T>()
  #byRemote = new Map<string, T>()
  readonly #options: ConnectionRegistryOptions<T>

  constructor(options: ConnectionRegistryOptions<T> = {}) {
    this.#options = options
  }

  add(
    connection: T,
    remoteKey: string = remoteKeyOf(connection.remoteAddress, connection.remotePort)
  ): void {
    this.#byId.set(connection.id, connection)
    this.#byRemote.set(remoteKey, connection)
    connection.onClose(() => {
      this.#byId.delete(connection.id)
      if (this.#byRemote.get(remoteKey) === connection) {
        this.#byRemote.delete(remoteKey)
      }
      this.#options.onClosed?.(connection)
    })
  }

  get(id: string): T | undefined {
    const connection = this.#byId.get(id)
    return connection && !connection.closed ? connection : undefined
  }

  findByRemote(host: string, port: number): T | undefined {
    const connection = this.#byRemote.get(remoteKeyOf(host, port))
    return connection && !connection.closed ? connection : undefined
  }

  get size(): number {
    return this.#byId.size
  }

  /** True while the connection is open. */
  hasConnection(connectionId: string): boolean {
    return this.get(connectionId) !== undefined
  }

  /**
   * Writes a message over the destination's connection (RFC 3261 18.2.2: the request's
   * connection if still open, else one to host:port, dialled when allowed). A connection that
   * cannot be established reports to `onLateError`, since `send` has returned by then.
   */
  send(
    message: SipMessage,
    destination: SipDestination,
    onLateError?: (error: unknown) => void
  ): void {
    const connection = this.#connectionFor(destination)
    connection.write(message.toBuffer())
    if (onLateError) {
      connection.onConnectFailure?.(onLateError)
    }
    this.#options.traffic?.sent(message, {
      protocol: connection.protocol,
      address: connection.remoteAddress,
      port: connection.remotePort,
      connectionId: connection.id,
    })
  }

  /** Writes raw bytes (keep-alive replies) the same way. */
  sendBytes(bytes: Buffer, destination: SipDestination): void {
    this.#connectionFor(destination).write(bytes)
  }

  /** Closes one connection; false when it is not (or no longer) open. */
  close(id: string): boolean {
    const connection = this.get(id)
    connection?.close()
    return connection !== undefined
  }

  closeAll(): void {
    for (const connection of [...this.#byId.values()]) {
      connection.close()
    }
  }

  #connectionFor(destination: SipDestination): T {
    const existing =
      (destination.connectionId !== undefined ? this.get(destination.connectionId) : undefined) ??
      this.findByRemote(destination.host, destination.port)
    if (existing) {
      return existing
    }
    if (!this.#options.dial) {
      throw new Error(
        `no open connection to ${destination.protocol} ${destination.host}:${destination.port}`
      )
    }
    return this.#options.dial(destination)
  }
}

export function remoteKeyOf(host: string, port: number): string {
  return `${host.toLowerCase()}|${port}`
}
