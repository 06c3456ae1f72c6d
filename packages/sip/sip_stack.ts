import type SipTransportLayer from '#sip/transport/sip_transport_layer'
import type SipUserAgentCore from '#sip/ua/sip_user_agent_core'
import type { RegistrarParts } from '#sip/registrar/registrar_parts'
import type { Binding } from '#sip/registrar/binding'
import type { AuthenticateOptions, DigestOutcome } from '#sip/registrar/digest_authenticator'
import type SipRequest from '#sip/message/sip_request'
import type { SipTransportProtocol } from '#sip/transaction/transaction_transport'
import type { ClosedConnection } from '#sip/transport/sip_transport_layer'
import { byeFor, type DialogSnapshot } from '#sip/dialog/dialog_snapshot'
import type IncomingRequest from '#sip/ua/incoming_request'
import type { SipLogger } from '#sip/transport/sip_traffic_logger'
import SipUri from '#sip/message/sip_uri'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import SipResolver from '#sip/resolver/sip_resolver'
import type { DnsLookup } from '#sip/resolver/dns_lookup'
import SystemDnsLookup from '#sip/resolver/system_dns_lookup'
import type { SipTargetTransport } from '#sip/resolver/sip_target'

/** A next hop named by host rather than URI, such as a carrier profile's host, port and transport. */
export interface SipNextHop {
  host: string
  /** Without a port (and with a host name), SRV records decide ports and order. */
  port?: number
  /** Without one, every enabled transport is looked up (SRV), UDP first. */
  transport?: SipTargetTransport
}

export interface SipStackOptions {
  /** DNS for RFC 3263; the system's by default. */
  dns?: DnsLookup
  /**
   * Whether an error of a REGISTER's checks (credentials, counters, bindings) means a service
   * the stack depends on is out of reach for now: answered 503 with Retry-After
   * (`retryAfterSeconds`, RFC 3261 21.5.4) instead of 500, so the phone tries again later.
   */
  unavailable?: (error: unknown) => boolean
  retryAfterSeconds?: number
}

const TARGET_TRANSPORTS: readonly SipTargetTransport[] = ['udp', 'tcp', 'tls']

/**
 * The assembled SIP stack of one process: transports below, the user agent core (transactions,
 * dialogs) above them, and the registrar answering REGISTER. The B2BUA (calls) attaches its
 * INVITE handling to `core` and uses the operations below (authentication, bindings, local
 * addresses, ending a stored dialog) rather than the parts they work on.
 */
export default class SipStack {
  readonly resolver: SipResolver
  readonly #beforeClose: Array<() => Promise<void>> = []
  #stopListening: (() => void) | undefined
  readonly #removals = new Set<Promise<void>>()

  constructor(
    readonly layer: SipTransportLayer,
    readonly core: SipUserAgentCore,
    readonly registrar: RegistrarParts,
    private logger: SipLogger,
    private options: SipStackOptions = {}
  ) {
    // Only transports we can send on are worth a lookup.
    const transports = TARGET_TRANSPORTS.filter((transport) => layer.config[transport]?.enabled)
    this.resolver = new SipResolver(options.dns ?? new SystemDnsLookup(), { transports })
  }

  /** Runs first when the stack closes, while it can still send (carrier un-registrations). */
  beforeClose(task: () => Promise<void>) {
    this.#beforeClose.push(task)
  }

  /** Digest authentication of a request from `source` (INVITEs from phones; REGISTER uses it too). */
  authenticate(
    request: SipRequest,
    source: SipDestination,
    options?: AuthenticateOptions
  ): Promise<DigestOutcome> {
    return this.registrar.authenticator.authenticate(request, source, options)
  }

  /** The live bindings of an address-of-record. */
  bindingsOf(aor: string): Promise<Binding[]> {
    return this.registrar.registrar.lookup(aor)
  }

  /** The live bindings of a subject and every subject under it (inbound calls ring them all). */
  bindingsOfSubject(subject: string): Promise<Binding[]> {
    return this.registrar.registrar.lookupSubject(subject)
  }

  /**
   * Ends a registration before its expiry: the binding goes, and a WebSocket client loses its
   * connection (it notices and registers anew, or cannot). Other nodes' connections are not
   * reached from here.
   */
  async evict(binding: Binding): Promise<void> {
    await this.registrar.bindings.remove(binding)
    const { connectionId, protocol } = binding.source
    if (connectionId && (protocol === 'ws' || protocol === 'wss')) {
      this.layer.closeWebSocketConnection(connectionId)
    }
  }

  /**
   * A client's connection at a trusted front closed (the front names its flow, see Binding.flow):
   * its bindings go, on whichever node hears it. Resolves with how many were removed.
   */
  async removeFlow(flow: string): Promise<number> {
    const removed = await this.registrar.bindings.removeByFlow(flow)
    if (removed.length > 0) {
      this.logger.info(
        { flow, bindings: removed.length },
        'bindings of a closed front flow removed'
      )
    }
    return removed.length
  }

  /** The host we are reached at over `protocol` (Contact and From of our requests), if it listens. */
  localHost(protocol: SipTransportProtocol): string | undefined {
    return this.layer.localAddress(protocol)?.host
  }

  /** The sources that get the carriers' flood budget instead of the default one. */
  setTrustedSources(entries: string[]) {
    this.layer.setTrustedSources(entries)
  }

  /** Told about every stream connection (TCP, TLS, WebSocket) that closes. */
  onConnectionClosed(listener: (connection: ClosedConnection) => void): () => void {
    return this.layer.onConnectionClosed(listener)
  }

  /**
   * Closes the web phones' WebSockets (shutdown, once the calls are drained), so their browsers
   * reconnect to another node and the HTTP server can close.
   */
  async closeWebSockets(): Promise<void> {
    await this.layer.webSocket?.close()
  }

  /** Client transactions and server transactions still running (shutdown waits for them a while). */
  get transactionCount(): number {
    return this.core.transactionCount
  }

  /**
   * Ends a dialog this process no longer holds (another node's, or ours before a crash) with a
   * BYE built from its snapshot. Fire and forget: the peer's answer changes nothing here.
   */
  endDialog(snapshot: DialogSnapshot) {
    this.core.request(byeFor(snapshot))
  }

  /** Opens the sockets and routes what they receive to the core. */
  async start() {
    this.core.setHandler('REGISTER', (incoming) => this.#register(incoming))
    this.#stopListening ??= this.layer.onConnectionClosed(({ connectionId }) => {
      const removal = this.#dropBindingsOf(connectionId)
      this.#removals.add(removal)
      void removal.finally(() => this.#removals.delete(removal))
    })
    this.layer.attach(this.core)
    await this.layer.start()
  }

  /**
   * RFC 3263 server location for an outbound request: the destinations to try, in order (SRV
   * priority and weight, then each name's A/AAAA). IP literals and explicit ports skip SRV. Pass
   * each to `core.invite({ destination })` / `core.request({ destination })` and move to the next
   * on a transport error or timeout (see withFailover). Empty when DNS has no address.
   */
  async resolveTargets(target: SipUri | SipNextHop): Promise<SipDestination[]> {
    const uri =
      target instanceof SipUri
        ? target
        : new SipUri({
            host: target.host,
            port: target.port,
            params: new Map(target.transport ? [['transport', target.transport]] : []),
          })
    const targets = await this.resolver.resolve(uri)
    return targets.map((found) => ({
      protocol: found.transport,
      host: found.address,
      port: found.port,
      hostname: found.hostname,
    }))
  }

  async close() {
    for (const task of this.#beforeClose.splice(0)) await task()
    this.layer.detach()
    this.core.close()
    // Closing the connections removes their bindings (in Redis, other nodes would try them);
    // those removals finish before the store closes.
    await this.layer.close()
    this.#stopListening?.()
    this.#stopListening = undefined
    await Promise.allSettled([...this.#removals])
    await this.registrar.bindings.close()
    await this.registrar.nonceCounts.close()
  }

  /**
   * The answer to a request whose checks failed with `error`: 503 with Retry-After when the error
   * means a service the stack depends on is out of reach (SipStackOptions.unavailable), null for
   * any other failure. For every request the stack or its users authenticate (REGISTER here,
   * SUBSCRIBE in the busy lamps).
   */
  unavailableAnswer(error: unknown): { status: 503; headers: Array<[string, string]> } | null {
    if (!this.options.unavailable?.(error)) return null
    return {
      status: 503,
      headers: [['Retry-After', String(this.options.retryAfterSeconds ?? 30)]],
    }
  }

  #register(incoming: IncomingRequest) {
    const source = incoming.transaction.destination
    this.registrar.registrar
      .handle(incoming.request, source)
      .then(async (response) => {
        // The connection closed while the REGISTER was being checked: its close came too early
        // to take the new binding with it.
        if (source.connectionId !== undefined && !this.layer.hasConnection(source)) {
          await this.#dropBindingsOf(source.connectionId)
        }
        incoming.send(response)
      })
      .catch((error) => {
        const unavailable = this.unavailableAnswer(error)
        if (unavailable) {
          this.logger.warn({ err: error }, 'REGISTER refused: a service it needs is out of reach')
          incoming.respond(unavailable.status, { headers: unavailable.headers })
          return
        }
        this.logger.error({ err: error }, 'REGISTER failed')
        incoming.respond(500)
      })
  }

  /**
   * A client on a stream connection (a browser tab, a TCP or TLS phone) is reachable only over
   * that connection: once it closes, its bindings go, so inbound calls stop ringing it at once.
   */
  async #dropBindingsOf(connectionId: string): Promise<void> {
    try {
      const removed = await this.registrar.bindings.removeByConnection(connectionId)
      if (removed.length > 0) {
        this.logger.info(
          { connectionId, bindings: removed.length },
          'bindings of a closed connection removed'
        )
      }
    } catch (error) {
      this.logger.error({ err: error, connectionId }, 'bindings of a closed connection not removed')
    }
  }
}
