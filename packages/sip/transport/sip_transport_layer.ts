import type { Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import SipMessageParser from '#sip/message/sip_message_parser'
import SipRequest from '#sip/message/sip_request'
import type SipMessage from '#sip/message/sip_message'
import { createParseErrorResponse } from '#sip/message/create_response'
import type { SipClock } from '#sip/clock/sip_clock'
import type { SipDestination, SipTransportProtocol } from '#sip/transaction/transaction_transport'
import type {
  PacketOrigin,
  SipTransport,
  TransportAddress,
  TransportReceiver,
} from '#sip/transport/sip_transport'
import type { SipMessageSource, SipTransportUser } from '#sip/transport/sip_transport_user'
import type { SipTransportConfig } from '#sip/transport/sip_transport_config'
import type { StreamConnection } from '#sip/transport/stream_connection'
import type { TlsCredentials } from '#sip/transport/tls_credentials'
import SipTrafficLogger, { type SipLogger } from '#sip/transport/sip_traffic_logger'
import type SipTrafficStats from '#sip/transport/sip_traffic_stats'
import TokenBucketRateLimiter from '#sip/transport/token_bucket_rate_limiter'
import SourceList from '#sip/transport/source_list'
import ConnectionLimiter from '#sip/transport/connection_limiter'
import OriginPolicy from '#sip/transport/origin_policy'
import DefaultRequestHandler from '#sip/transport/default_request_handler'
import UdpTransport from '#sip/transport/udp_transport'
import TcpTransport from '#sip/transport/tcp_transport'
import TlsTransport from '#sip/transport/tls_transport'
import WebSocketTransport from '#sip/transport/websocket_transport'
import { compileProxyTrust } from '#sip/transport/client_address'
import TrustedFronts from '#sip/transport/trusted_fronts'
import { stampReceived } from '#sip/transport/via_stamping'
import { responseDestination } from '#sip/transport/response_routing'

const CRLF = Buffer.from('\r\n')
const CRLF_CRLF = Buffer.from('\r\n\r\n')
/** Sources remembered as "currently limited", only to log each flood once. */
const MAX_LIMITED_SOURCES_LOGGED = 10_000

export interface SipTransportLayerOptions {
  config: SipTransportConfig
  clock: SipClock
  logger: SipLogger
  /** Needed when TLS is enabled: the certificate and key, read again on every reload. */
  loadTlsCredentials?: () => Promise<TlsCredentials>
}

/** A stream connection (TCP, TLS, WebSocket) that has closed, for `onConnectionClosed` listeners. */
export interface ClosedConnection {
  protocol: SipTransportProtocol
  connectionId: string
  address: string
  port: number
  /** The peer closed it with a close frame (WebSocket); false when it dropped or we closed it. */
  clean: boolean
}

/** Counters for health displays and tests. */
export interface TransportLayerStats {
  received: number
  rateLimited: number
  parseFailures: number
  answeredParseFailures: number
  keepAlives: number
}

/**
 * The SIP transport layer: owns the UDP, TCP, TLS and WebSocket transports, turns their bytes
 * into messages in one place (rate limit per source IP, parse, 400 for bad requests, CRLF
 * keep-alives), stamps received/rport on requests and hands messages to the attached
 * SipTransportUser. Outgoing messages go through `send()`, which picks the transport from the
 * destination's protocol and its connection (opening one for TCP/TLS when needed).
 */
export default class SipTransportLayer {
  readonly config: SipTransportConfig
  readonly parser: SipMessageParser
  readonly connectionLimiter: ConnectionLimiter
  readonly stats: TransportLayerStats = {
    received: 0,
    rateLimited: 0,
    parseFailures: 0,
    answeredParseFailures: 0,
    keepAlives: 0,
  }
  readonly #traffic: SipTrafficLogger
  readonly #rateLimiter: TokenBucketRateLimiter | undefined
  readonly #trustedLimiter: TokenBucketRateLimiter | undefined
  #trustedSources = new SourceList([])
  readonly #fronts: TrustedFronts
  readonly #transports = new Map<SipTransportProtocol, SipTransport>()
  readonly #all: SipTransport[] = []
  readonly #limitedSources = new Set<string>()
  readonly #closeListeners = new Set<(connection: ClosedConnection) => void>()
  readonly #defaultUser = new DefaultRequestHandler()
  #user: SipTransportUser = this.#defaultUser
  #started = false
  readonly #connectionClosed = (connection: StreamConnection) => this.#notifyClosed(connection)
  readonly #receiver: TransportReceiver = {
    receive: (bytes, origin) => this.#receive(bytes, origin),
  }

  constructor(options: SipTransportLayerOptions) {
    const { config } = options
    this.config = config
    this.parser = new SipMessageParser({ maxMessageSize: config.limits.maxMessageSize })
    this.connectionLimiter = new ConnectionLimiter({
      maxPerSource: config.limits.maxConnectionsPerSource,
      maxTotal: config.limits.maxConnections,
    })
    this.#traffic = new SipTrafficLogger(options.logger)
    this.#rateLimiter = config.rateLimit.enabled
      ? new TokenBucketRateLimiter(options.clock, config.rateLimit)
      : undefined
    const trusted = config.rateLimit.trusted
    this.#trustedLimiter =
      config.rateLimit.enabled && trusted
        ? new TokenBucketRateLimiter(options.clock, { ...trusted, maxSources: 10_000 })
        : undefined
    this.#trustedSources = new SourceList(trusted?.sources ?? [])
    this.#fronts = new TrustedFronts(config.trustedFronts ?? [])

    const common = { host: config.host, receiver: this.#receiver, traffic: this.#traffic }
    const stream = {
      ...common,
      parser: this.parser,
      limiter: this.connectionLimiter,
      idleTimeoutMs: config.limits.idleTimeoutMs,
      onConnectionClosed: this.#connectionClosed,
    }
    if (config.udp.enabled) {
      this.#add(new UdpTransport({ ...common, port: config.udp.port }))
    }
    if (config.tcp.enabled) {
      this.#add(new TcpTransport({ ...stream, port: config.tcp.port }))
    }
    if (config.tls.enabled) {
      const loadCredentials = options.loadTlsCredentials
      if (!loadCredentials) {
        throw new Error('SIP TLS is enabled but no certificate loader was given')
      }
      this.#add(
        new TlsTransport({
          ...stream,
          port: config.tls.port,
          loadCredentials,
          verifyPeers: config.tls.verifyPeers,
          handshakeTimeoutMs: config.tls.handshakeTimeoutMs,
        })
      )
    }
    if (config.ws.enabled) {
      this.#add(
        new WebSocketTransport({
          path: config.ws.path,
          origins: new OriginPolicy(config.ws.allowedOrigins),
          proxyTrust: compileProxyTrust(config.ws.trustedProxies),
          receiver: this.#receiver,
          traffic: this.#traffic,
          limiter: this.connectionLimiter,
          idleTimeoutMs: config.limits.idleTimeoutMs,
          maxMessageSize: config.limits.maxMessageSize,
          onConnectionClosed: this.#connectionClosed,
        })
      )
    }
  }

  /** Messages in and out, parse failures and flood-limited sources (plain counters, for metrics). */
  get traffic(): SipTrafficStats {
    return this.#traffic.stats
  }

  get started(): boolean {
    return this.#started
  }

  /** Binds every enabled transport; on failure closes what was opened and rethrows. */
  async start(): Promise<void> {
    if (this.#started) {
      return
    }
    try {
      await Promise.all(this.#all.map((transport) => transport.listen()))
    } catch (error) {
      await this.close()
      throw error
    }
    this.#started = true
    const listening = Object.fromEntries(
      this.#all
        .filter((transport) => transport.localAddress)
        .map((transport) => {
          const address = transport.localAddress as TransportAddress
          return [transport.protocols[0], `${address.host}:${address.port}`]
        })
    )
    this.#traffic.info({ listening }, 'sip transports listening')
  }

  /**
   * Attaches the layer above (dialogs, user agents); replaces the default OPTIONS handler.
   * `detach()` puts the default handler back.
   */
  attach(user: SipTransportUser): void {
    this.#user = user
  }

  detach(): void {
    this.#user = this.#defaultUser
  }

  /** Serves the SIP WebSocket path on the app's HTTP server; a no-op when WebSocket is disabled. */
  attachHttpServer(server: HttpServer | HttpsServer): void {
    this.webSocket?.attach(server)
  }

  get webSocket(): WebSocketTransport | undefined {
    const transport = this.#transports.get('ws')
    return transport instanceof WebSocketTransport ? transport : undefined
  }

  /** The transport for a protocol, to hand to the transaction layer; throws when disabled. */
  transportFor(protocol: SipTransportProtocol): SipTransport {
    const transport = this.#transports.get(protocol)
    if (!transport) {
      throw new Error(`SIP transport ${protocol} is not enabled`)
    }
    return transport
  }

  /** The bound address of a transport (after start), with the configured public host if any. */
  localAddress(protocol: SipTransportProtocol): TransportAddress | undefined {
    const address = this.#transports.get(protocol)?.localAddress
    if (!address) {
      return undefined
    }
    return { host: this.config.publicHost ?? address.host, port: address.port }
  }

  /**
   * Sends a request or response. TCP and TLS use `destination.connectionId` when that connection
   * is still open, else reuse or open a connection to host:port; WebSocket needs a live
   * connection. Throws when the message cannot be sent, as TransactionTransport allows.
   */
  send(
    message: SipMessage,
    destination: SipDestination,
    onLateError?: (error: unknown) => void
  ): void {
    this.transportFor(destination.protocol).send(message, destination, onLateError)
  }

  /**
   * Listens for stream connections that have closed; returns the function that stops listening.
   * Listeners run synchronously and must not throw (a throw is logged, the others still run).
   */
  onConnectionClosed(listener: (connection: ClosedConnection) => void): () => void {
    this.#closeListeners.add(listener)
    return () => this.#closeListeners.delete(listener)
  }

  /** True while the stream connection `destination.connectionId` is open on its transport. */
  hasConnection(destination: Pick<SipDestination, 'protocol' | 'connectionId'>): boolean {
    const { connectionId } = destination
    if (connectionId === undefined) {
      return false
    }
    return this.#transports.get(destination.protocol)?.hasConnection(connectionId) ?? false
  }

  /**
   * Closes a client's WebSocket connection by the id its bindings carry (a revoked web phone
   * credential must lose its socket at once); false when that connection is not open.
   */
  closeWebSocketConnection(connectionId: string): boolean {
    return this.webSocket?.closeConnection(connectionId) ?? false
  }

  async reloadCertificate(): Promise<void> {
    const transport = this.#transports.get('tls')
    if (!(transport instanceof TlsTransport)) {
      throw new Error('SIP TLS is not enabled')
    }
    await transport.reloadCertificate()
  }

  /** Closes every socket and connection. */
  async close(): Promise<void> {
    this.#started = false
    await Promise.allSettled(this.#all.map((transport) => transport.close()))
  }

  #notifyClosed(connection: StreamConnection): void {
    const closed: ClosedConnection = {
      protocol: connection.protocol,
      connectionId: connection.id,
      address: connection.remoteAddress,
      port: connection.remotePort,
      clean: connection.closedCleanly ?? false,
    }
    for (const listener of this.#closeListeners) {
      try {
        listener(closed)
      } catch (error) {
        this.#traffic.failure('sip connection closed listener', error, closed)
      }
    }
  }

  #add(transport: SipTransport): void {
    this.#all.push(transport)
    for (const protocol of transport.protocols) {
      this.#transports.set(protocol, transport)
    }
  }

  #receive(bytes: Buffer, origin: PacketOrigin): void {
    try {
      this.#handle(bytes, origin)
    } catch (error) {
      this.#traffic.failure('sip receive', error, origin)
    }
  }

  #handle(bytes: Buffer, origin: PacketOrigin): void {
    // A front forwards many clients: each is limited once its request names it (below).
    const fromFront = this.#fronts.has(origin.address)
    if (!fromFront && !this.#withinRate(origin, origin.address, isResponse(bytes))) {
      return
    }
    this.stats.received += 1
    // Replies go back exactly where the bytes came from, never to an address the bytes claim.
    const back: SipDestination = {
      protocol: origin.protocol,
      host: origin.address,
      port: origin.port,
      connectionId: origin.connectionId,
    }
    if (bytes.equals(CRLF_CRLF)) {
      this.stats.keepAlives += 1
      origin.transport.sendBytes(CRLF, back)
      return
    }
    if (bytes.equals(CRLF)) {
      return
    }

    const result = this.parser.tryParse(bytes)
    if (!result.ok) {
      this.stats.parseFailures += 1
      const response = createParseErrorResponse(result.error)
      if (response) {
        this.stats.answeredParseFailures += 1
        origin.transport.send(response, back)
      }
      this.#traffic.parseFailed(result.error, origin, response?.status)
      return
    }

    const message = result.message
    if (message instanceof SipRequest) {
      // Taken off every request: only a trusted front's names the client, and nobody above sees it.
      const client = this.#fronts.takeClient(message, origin.address)
      message.client = client
      if (fromFront && !this.#withinRate(origin, client?.host ?? origin.address, false, !client)) {
        return
      }
      this.#traffic.received(message, client ? { ...origin, client: client.flow } : origin)
      const topVia = stampReceived(message, origin.address, origin.port)
      const source = this.#source(origin, responseDestination(topVia, origin))
      this.#deliver(() => this.#user.onRequest(message, source), origin)
    } else {
      if (fromFront && !this.#withinRate(origin, origin.address, true, true)) {
        return
      }
      this.#traffic.received(message, origin)
      const source = this.#source(origin, back)
      this.#deliver(() => this.#user.onResponse(message, source), origin)
    }
  }

  /** Whether `address` is a trusted SIP front (SIP_TRUSTED_FRONTS). */
  isTrustedFront(address: string): boolean {
    return this.#fronts.has(address)
  }

  /**
   * Our carriers' signalling sources (addresses or CIDRs) get the trusted budget instead of the
   * one for unknown sources; replaces the list set before. Throws on an entry that is no
   * address or CIDR, naming it.
   */
  setTrustedSources(sources: string[]): void {
    this.#trustedSources = new SourceList([
      ...(this.config.rateLimit.trusted?.sources ?? []),
      ...sources,
    ])
  }

  isTrustedSource(address: string): boolean {
    return this.#trustedSources.has(address)
  }

  /**
   * The flood budget of one source: `address` is the packet's source, or the client a trusted
   * front named; the front's own traffic (`front`) gets the carriers' budget.
   */
  #withinRate(origin: PacketOrigin, address: string, response: boolean, front = false): boolean {
    if (!this.#rateLimiter) {
      return true
    }
    const trusted = this.#trustedLimiter && (front || this.#trustedSources.has(address))
    const limiter = trusted ? this.#trustedLimiter! : this.#rateLimiter
    // Responses to our own transactions have a bucket of their own: a flood of new requests from
    // a source never costs us the answers we are waiting for.
    const key = response ? `${address} response` : address
    if (limiter.allow(key)) {
      this.#limitedSources.delete(address)
      return true
    }
    this.stats.rateLimited += 1
    this.#traffic.dropped()
    if (!this.#limitedSources.has(address)) {
      if (this.#limitedSources.size >= MAX_LIMITED_SOURCES_LOGGED) {
        this.#limitedSources.clear()
      }
      this.#limitedSources.add(address)
      this.#traffic.rateLimited({ ...origin, address })
    }
    return false
  }

  #source(origin: PacketOrigin, destination: SipDestination): SipMessageSource {
    return {
      transport: origin.transport,
      protocol: origin.protocol,
      address: origin.address,
      port: origin.port,
      connectionId: origin.connectionId,
      responseDestination: destination,
    }
  }

  /** The layer above must not be able to take a socket handler down with it. */
  #deliver(handler: () => void, origin: PacketOrigin): void {
    try {
      handler()
    } catch (error) {
      this.#traffic.failure('sip transport user', error, origin)
    }
  }
}

const STATUS_LINE_START = Buffer.from('SIP/2.0 ')

/** A response starts with its status line; anything else is a request, a keep-alive or garbage. */
function isResponse(bytes: Buffer): boolean {
  const length = STATUS_LINE_START.length
  // compare() with ranges: no view of the datagram made per message
  return bytes.length > length && bytes.compare(STATUS_LINE_START, 0, length, 0, length) === 0
}
