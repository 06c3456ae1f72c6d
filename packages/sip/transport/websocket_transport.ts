import type { IncomingMessage, Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type SipMessage from '#sip/message/sip_message'
import type { SipDestination, SipTransportProtocol } from '#sip/transaction/transaction_transport'
import type {
  SipTransport,
  TransportAddress,
  TransportReceiver,
} from '#sip/transport/sip_transport'
import type SipTrafficLogger from '#sip/transport/sip_traffic_logger'
import type ConnectionLimiter from '#sip/transport/connection_limiter'
import type OriginPolicy from '#sip/transport/origin_policy'
import ConnectionRegistry from '#sip/transport/connection_registry'
import WebSocketConnection from '#sip/transport/websocket_connection'
import type { StreamConnection } from '#sip/transport/stream_connection'
import { resolveClient, type ProxyTrust } from '#sip/transport/client_address'

/** RFC 7118 5: the WebSocket subprotocol for SIP. */
export const SIP_SUBPROTOCOL = 'sip'

export interface WebSocketTransportOptions {
  /** The HTTP path the upgrade is served at, such as /sip. */
  path: string
  origins: OriginPolicy
  proxyTrust: ProxyTrust
  receiver: TransportReceiver
  traffic: SipTrafficLogger
  limiter: ConnectionLimiter
  idleTimeoutMs: number
  maxMessageSize: number
  /** Told when a client's connection has closed (the registrar drops the bindings made over it). */
  onConnectionClosed?: (connection: StreamConnection) => void
}

function refuse(socket: Duplex, status: number, reason: string): void {
  const head = `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`
  socket.end(head, () => socket.destroy())
}

/**
 * SIP over WebSocket (RFC 7118) for the web phone, on a path of the app's own HTTP server so
 * that the page and the socket share an origin. The upgrade is refused unless the Origin is
 * allowed, the client offers the "sip" subprotocol and the connection caps leave room. Clients
 * cannot be reached except over their connection (their Contact host is *.invalid), so sending
 * needs a connectionId.
 */
export default class WebSocketTransport implements SipTransport {
  readonly reliable = true
  readonly protocols: readonly SipTransportProtocol[] = ['ws', 'wss']
  readonly localAddress: TransportAddress | undefined = undefined
  readonly #options: WebSocketTransportOptions
  readonly #server: WebSocketServer
  readonly #connections: ConnectionRegistry<WebSocketConnection>
  #httpServer: HttpServer | HttpsServer | undefined
  readonly #onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) =>
    this.handleUpgrade(request, socket, head)

  constructor(options: WebSocketTransportOptions) {
    this.#options = options
    this.#connections = new ConnectionRegistry<WebSocketConnection>({
      traffic: options.traffic,
      // Browsers are reachable only over their own connection: there is nothing to dial.
      dial: () => {
        throw new Error('the WebSocket client is no longer connected')
      },
      onClosed: options.onConnectionClosed,
    })
    this.#server = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageSize,
      handleProtocols: (protocols) => (protocols.has(SIP_SUBPROTOCOL) ? SIP_SUBPROTOCOL : false),
    })
    this.#server.on('error', (error) => options.traffic.failure('ws server', error))
  }

  get attached(): boolean {
    return this.#httpServer !== undefined
  }

  get connectionCount(): number {
    return this.#connections.size
  }

  async listen(): Promise<void> {}

  /** Serves the SIP path on an HTTP server's upgrades; other paths are left to other listeners. */
  attach(httpServer: HttpServer | HttpsServer): void {
    if (this.#httpServer === httpServer) {
      return
    }
    this.detach()
    httpServer.on('upgrade', this.#onUpgrade)
    this.#httpServer = httpServer
  }

  detach(): void {
    this.#httpServer?.off('upgrade', this.#onUpgrade)
    this.#httpServer = undefined
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    try {
      const path = new URL(request.url ?? '/', 'http://upgrade.invalid').pathname
      if (path !== this.#options.path) {
        return
      }
      socket.on('error', () => socket.destroy())
      const client = resolveClient(request, this.#options.proxyTrust)
      const peer = {
        protocol: (client.secure ? 'wss' : 'ws') as SipTransportProtocol,
        address: client.address,
        port: request.socket.remotePort ?? 0,
      }
      if (!this.#options.origins.allows(request.headers.origin)) {
        this.#options.traffic.connectionRefused(peer, 'origin-not-allowed')
        refuse(socket, 403, 'Forbidden')
        return
      }
      const offered = String(request.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((value) => value.trim().toLowerCase())
      if (!offered.includes(SIP_SUBPROTOCOL)) {
        this.#options.traffic.connectionRefused(peer, 'no-sip-subprotocol')
        refuse(socket, 400, 'Bad Request')
        return
      }
      const slot = this.#options.limiter.acquire(client.address)
      if (!slot.ok) {
        this.#options.traffic.connectionRefused(peer, slot.reason)
        refuse(socket, 503, 'Service Unavailable')
        return
      }
      socket.once('close', () => this.#options.limiter.release(client.address))
      this.#server.handleUpgrade(request, socket, head, (webSocket) => {
        try {
          this.#register(webSocket, socket, peer)
        } catch (error) {
          this.#options.traffic.failure('ws register', error, peer)
          webSocket.terminate()
        }
      })
    } catch (error) {
      this.#options.traffic.failure('ws upgrade', error)
      socket.destroy()
    }
  }

  send(message: SipMessage, destination: SipDestination): void {
    this.#connections.send(message, destination)
    this.#options.traffic.sent(message, { ...destination, address: destination.host })
  }

  sendBytes(bytes: Buffer, destination: SipDestination): void {
    this.#connections.sendBytes(bytes, destination)
  }

  hasConnection(connectionId: string): boolean {
    return this.#connections.hasConnection(connectionId)
  }

  /** Closes one client's connection (its web phone credential was revoked). */
  closeConnection(connectionId: string): boolean {
    return this.#connections.close(connectionId)
  }

  /** Closes every client connection and keeps taking new ones (a test suite ending). */
  closeAllConnections(): void {
    this.#connections.closeAll()
  }

  async close(): Promise<void> {
    this.detach()
    this.#connections.closeAll()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #register(
    webSocket: import('ws').WebSocket,
    socket: Duplex,
    peer: { protocol: SipTransportProtocol; address: string; port: number }
  ): void {
    const connection = new WebSocketConnection(webSocket, {
      protocol: peer.protocol,
      remoteAddress: peer.address,
      remotePort: peer.port,
      onMessage: (bytes, from) =>
        this.#options.receiver.receive(bytes, {
          transport: this,
          protocol: from.protocol,
          address: from.remoteAddress,
          port: from.remotePort,
          connectionId: from.id,
        }),
      onError: (error, from) =>
        this.#options.traffic.failure('ws connection', error, {
          protocol: from.protocol,
          address: from.remoteAddress,
          port: from.remotePort,
          connectionId: from.id,
        }),
    })
    // ws clears the socket timeout during the upgrade, so the idle timer is set afterwards.
    if ('setTimeout' in socket && typeof socket.setTimeout === 'function') {
      socket.setTimeout(this.#options.idleTimeoutMs, () => connection.close())
    }
    this.#connections.add(connection)
  }
}
