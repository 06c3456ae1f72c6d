import type net from 'node:net'
import type SipMessage from '#sip/message/sip_message'
import type SipMessageParser from '#sip/message/sip_message_parser'
import type { SipDestination, SipTransportProtocol } from '#sip/transaction/transaction_transport'
import type {
  SipTransport,
  TransportAddress,
  TransportReceiver,
} from '#sip/transport/sip_transport'
import type SipTrafficLogger from '#sip/transport/sip_traffic_logger'
import type ConnectionLimiter from '#sip/transport/connection_limiter'
import ConnectionRegistry from '#sip/transport/connection_registry'
import SocketConnection from '#sip/transport/socket_connection'
import type { StreamConnection } from '#sip/transport/stream_connection'
import { normalizeAddress } from '#sip/transport/peer_address'

export interface StreamTransportOptions {
  host: string
  port: number
  receiver: TransportReceiver
  traffic: SipTrafficLogger
  parser: SipMessageParser
  limiter: ConnectionLimiter
  idleTimeoutMs: number
  /** Told when a connection has closed (the registrar drops the bindings made over it). */
  onConnectionClosed?: (connection: StreamConnection) => void
}

/**
 * What TCP and TLS share: a listening server, connection caps checked on the raw TCP connection
 * (before any TLS handshake costs us CPU), framing per connection, responses over the
 * connection the request came in on, and outbound connections reused per host:port.
 */
export default abstract class StreamTransport implements SipTransport {
  readonly reliable = true
  abstract readonly protocol: 'tcp' | 'tls'
  protected readonly options: StreamTransportOptions
  protected server: net.Server | undefined
  readonly #connections: ConnectionRegistry<SocketConnection>

  constructor(options: StreamTransportOptions) {
    this.options = options
    this.#connections = new ConnectionRegistry<SocketConnection>({
      traffic: options.traffic,
      dial: (destination) =>
        this.#connect(destination.host, destination.port, destination.hostname),
      onClosed: options.onConnectionClosed,
    })
  }

  get protocols(): readonly SipTransportProtocol[] {
    return [this.protocol]
  }

  get localAddress(): TransportAddress | undefined {
    const address = this.server?.address()
    if (!address || typeof address === 'string') {
      return undefined
    }
    return { host: address.address, port: address.port }
  }

  get connectionCount(): number {
    return this.#connections.size
  }

  /** The server, not yet listening; `acceptEvent` is where it hands over ready sockets. */
  protected abstract createServer(): Promise<net.Server>
  protected abstract readonly acceptEvent: 'connection' | 'secureConnection'
  /**
   * Starts an outbound connection; writes before it is established are queued by Node.
   * `hostname` is the name the address was resolved from (TLS: SNI and certificate check).
   */
  protected abstract openSocket(host: string, port: number, hostname?: string): net.Socket
  /** The socket event after which an outbound connection counts as established. */
  protected abstract readonly establishedEvent: 'connect' | 'secureConnect'

  async listen(): Promise<void> {
    const server = await this.createServer()
    server.on('connection', (socket: net.Socket) => this.#admit(socket))
    server.on(this.acceptEvent, (socket: net.Socket) => this.#accept(socket))
    server.on('error', (error) => this.options.traffic.failure(`${this.protocol} server`, error))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    this.server = server
  }

  send(
    message: SipMessage,
    destination: SipDestination,
    onLateError?: (error: unknown) => void
  ): void {
    this.#connections.send(message, destination, onLateError)
    this.options.traffic.sent(message, { ...destination, address: destination.host })
  }

  sendBytes(bytes: Buffer, destination: SipDestination): void {
    this.#connections.sendBytes(bytes, destination)
  }

  hasConnection(connectionId: string): boolean {
    return this.#connections.hasConnection(connectionId)
  }

  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    this.#connections.closeAll()
    if (server) {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }

  /** Counts the raw connection against the caps, or refuses it before anything is read. */
  #admit(socket: net.Socket): void {
    try {
      const address = normalizeAddress(socket.remoteAddress)
      const slot = this.options.limiter.acquire(address)
      if (!slot.ok) {
        this.options.traffic.connectionRefused(
          { protocol: this.protocol, address, port: socket.remotePort ?? 0 },
          slot.reason
        )
        socket.destroy()
        return
      }
      socket.once('close', () => this.options.limiter.release(address))
      // Covers the TLS handshake too; the accepted connection sets its own idle timer.
      socket.setTimeout(this.options.idleTimeoutMs, () => socket.destroy())
      socket.on('error', () => socket.destroy())
    } catch (error) {
      this.options.traffic.failure(`${this.protocol} accept`, error)
      socket.destroy()
    }
  }

  #accept(socket: net.Socket): void {
    try {
      if (socket.destroyed) {
        return
      }
      this.#register(socket, normalizeAddress(socket.remoteAddress), socket.remotePort ?? 0)
    } catch (error) {
      this.options.traffic.failure(`${this.protocol} accept`, error)
      socket.destroy()
    }
  }

  #register(
    socket: net.Socket,
    address: string,
    port: number,
    establishedEvent?: 'connect' | 'secureConnect'
  ): SocketConnection {
    const connection = new SocketConnection(socket, {
      protocol: this.protocol,
      establishedEvent,
      remoteAddress: address,
      remotePort: port,
      parser: this.options.parser,
      idleTimeoutMs: this.options.idleTimeoutMs,
      onMessage: (bytes, from) =>
        this.options.receiver.receive(bytes, {
          transport: this,
          protocol: this.protocol,
          address: from.remoteAddress,
          port: from.remotePort,
          connectionId: from.id,
        }),
      onFramingError: (error, from) =>
        this.options.traffic.parseFailed(error, this.#peer(from), undefined),
      onSocketError: (error, from) =>
        this.options.traffic.failure(`${this.protocol} connection`, error, this.#peer(from)),
    })
    this.#connections.add(connection)
    return connection
  }

  #connect(host: string, port: number, hostname?: string): SocketConnection {
    if (!this.server) {
      throw new Error(`the ${this.protocol.toUpperCase()} transport is not listening`)
    }
    const slot = this.options.limiter.acquire(host)
    if (!slot.ok) {
      throw new Error(`no ${this.protocol} connection to ${host}:${port}: ${slot.reason}`)
    }
    const socket = this.openSocket(host, port, hostname)
    socket.once('close', () => this.options.limiter.release(host))
    return this.#register(socket, host, port, this.establishedEvent)
  }

  #peer(connection: SocketConnection) {
    return {
      protocol: this.protocol,
      address: connection.remoteAddress,
      port: connection.remotePort,
      connectionId: connection.id,
    }
  }
}
