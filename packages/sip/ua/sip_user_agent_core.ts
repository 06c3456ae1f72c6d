import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import type SipMessage from '#sip/message/sip_message'
import NameAddress from '#sip/message/name_address'
import SipUri from '#sip/message/sip_uri'
import { createRequest, userAgentVia } from '#sip/message/create_request'
import { randomToken, type TokenSource } from '#sip/message/random_token'
import { createResponse } from '#sip/message/create_response'
import type { SipClock } from '#sip/clock/sip_clock'
import TransactionManager, {
  type RequestSource,
  type ServerTransaction,
} from '#sip/transaction/transaction_manager'
import InviteServerTransaction from '#sip/transaction/invite_server_transaction'
import type { TimerConfig } from '#sip/transaction/timer_config'
import type {
  SipDestination,
  SipTransportProtocol,
  TransactionTransport,
} from '#sip/transaction/transaction_transport'
import type { DialogServices } from '#sip/dialog/dialog_services'
import type SipDialog from '#sip/dialog/sip_dialog'
import { dialogKey } from '#sip/dialog/dialog_key'
import { DialogEndReason } from '#sip/dialog/dialog_state'
import type { SessionDescription } from '#sip/dialog/session_description'
import { DEFAULT_SESSION_TIMER, type SessionTimerConfig } from '#sip/dialog/session_timer_config'
import { sessionIntervalTooSmall } from '#sip/dialog/session_timer_negotiation'
import ClientAuthenticator, { type SipCredentialsProvider } from '#sip/ua/client_authenticator'
import IncomingRequest from '#sip/ua/incoming_request'
import IncomingInvite from '#sip/ua/incoming_invite'
import OutgoingInvite, { type OutgoingInviteOptions } from '#sip/ua/outgoing_invite'
import OutgoingRequest, { type OutgoingRequestOptions } from '#sip/ua/outgoing_request'
import type { UserAgentTransport } from '#sip/ua/user_agent_transport'
import { uriDestination, type DestinationResolver } from '#sip/ua/uri_destination'

/** Methods the core itself implements; handlers add theirs (REGISTER, MESSAGE ...). */
const CORE_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'UPDATE']

/** Methods that only make sense inside a dialog: without a To tag they get 481. */
const DIALOG_ONLY_METHODS = new Set(['BYE', 'UPDATE', 'INFO', 'PRACK', 'NOTIFY', 'REFER'])

export interface UserAgentCoreOptions {
  transport: UserAgentTransport
  clock: SipClock
  /** Shared with other users of the transaction layer, or created here. */
  transactions?: TransactionManager
  timers?: Partial<TimerConfig>
  /** Tags, branches, Call-IDs, cnonces. */
  tokens?: TokenSource
  /** [0, 1): glare delays, initial CSeq numbers, Retry-After. */
  random?: () => number
  /** User part of our Contact. */
  contactUser?: string
  /** Via and Contact host for transports without a bound address (WebSocket). */
  viaHost?: string
  /** Written as Server and User-Agent. */
  productName?: string
  /** Option tags we understand besides `timer`. */
  supported?: string[]
  /** Methods accepted inside dialogs and passed to DialogDelegate.onRequest (INFO, MESSAGE ...). */
  inDialogMethods?: string[]
  sessionTimer?: Partial<SessionTimerConfig>
  credentials?: SipCredentialsProvider
  resolve?: DestinationResolver
  /** An application handler threw; its request has been answered 500. Rethrown by default. */
  onHandlerError?: (error: unknown) => void
}

export type RequestHandler = (request: IncomingRequest) => void
export type InviteHandler = (invite: IncomingInvite) => void
/** A request inside a dialog the core does not hold (a subscription); false when unknown (481). */
export type InDialogHandler = (request: IncomingRequest) => boolean

interface NewRequestOptions {
  uri: SipUri
  /** Defaults to the Request-URI. */
  to?: NameAddress
  /** Defaults to our Contact user at our address; a tag is added. */
  from?: NameAddress
  /** Keeps this From tag instead of a new one (a BYE for a dialog recovered after a restart). */
  fromTag?: string
  callId?: string
  cseq?: number
  /** Defaults to what the Request-URI resolves to. */
  destination?: SipDestination
  headers?: Array<[string, string]>
  description?: SessionDescription
}

export interface SendRequestOptions extends NewRequestOptions, OutgoingRequestOptions {
  method: string
  /** Adds our Contact (REGISTER needs it; the registration client passes its own). */
  contact?: NameAddress
  /** Last changes before the request is sent, e.g. preemptive credentials. */
  prepare?: (request: SipRequest) => void
}

export interface InviteOptions extends NewRequestOptions, OutgoingInviteOptions {}

/**
 * The user agent core (RFC 3261 8, 12-15): sits on the transaction layer, receives what the
 * transport layer parsed, and hands requests to dialogs or to the handlers registered for
 * out-of-dialog methods. It answers what needs no application: OPTIONS, unknown methods (501),
 * unsupported Require (420), exhausted Max-Forwards (483), merged requests (482), requests for
 * unknown dialogs (481) and CANCEL (200, and 487 to the INVITE). `onRequest`/`onResponse` make it
 * attachable to SipTransportLayer as it is.
 */
export default class SipUserAgentCore {
  readonly transactions: TransactionManager
  readonly authenticator: ClientAuthenticator
  readonly sessionTimer: Readonly<SessionTimerConfig>
  readonly #transport: UserAgentTransport
  readonly #clock: SipClock
  readonly #tokens: TokenSource
  readonly #random: () => number
  readonly #contactUser: string
  readonly #viaHost: string
  readonly #productName: string | undefined
  readonly #supported: string[]
  readonly #inDialogMethods: string[]
  readonly #resolve: DestinationResolver
  readonly #onHandlerError: (error: unknown) => void
  readonly #services: DialogServices
  readonly #dialogs = new Map<string, SipDialog>()
  readonly #handlers = new Map<string, RequestHandler>()
  readonly #inDialogHandlers = new Map<string, InDialogHandler>()
  readonly #cancelTargets = new WeakMap<InviteServerTransaction, () => void>()
  /** The To tag of our responses to an initial INVITE, for the 200 to its CANCEL. */
  readonly #cancelTags = new WeakMap<InviteServerTransaction, string>()
  readonly #pendingRequests = new Map<string, ServerTransaction>()
  #inviteHandler: InviteHandler | undefined
  /** The allowed methods, made again only when a handler comes or goes: read at every request. */
  #allowed: { methods: readonly string[]; set: ReadonlySet<string>; text: string } | undefined

  constructor(options: UserAgentCoreOptions) {
    this.#transport = options.transport
    this.#clock = options.clock
    this.#tokens = options.tokens ?? randomToken
    this.#random = options.random ?? Math.random
    this.transactions =
      options.transactions ??
      new TransactionManager({ clock: options.clock, timers: options.timers, tokens: this.#tokens })
    this.authenticator = new ClientAuthenticator(options.credentials, this.#tokens)
    this.sessionTimer = Object.freeze({ ...DEFAULT_SESSION_TIMER, ...options.sessionTimer })
    this.#contactUser = options.contactUser ?? 'fluffycall'
    const placeholder = this.#tokens()
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')
    this.#viaHost = options.viaHost ?? `${placeholder}.invalid`
    this.#productName = options.productName
    this.#supported = [
      ...(this.sessionTimer.enabled ? ['timer'] : []),
      ...(options.supported ?? []),
    ]
    this.#inDialogMethods = (options.inDialogMethods ?? []).map((method) => method.toUpperCase())
    this.#resolve = options.resolve ?? ((uri) => uriDestination(uri))
    this.#onHandlerError =
      options.onHandlerError ??
      ((error) => {
        throw error
      })
    this.#services = this.#createServices()
  }

  /** Handles new INVITEs; without one they are answered 480. */
  setInviteHandler(handler: InviteHandler | undefined): void {
    this.#inviteHandler = handler
  }

  /** Handles an out-of-dialog method (REGISTER, MESSAGE, OPTIONS ...); the method becomes allowed. */
  setHandler(method: string, handler: RequestHandler | undefined): void {
    if (handler) {
      this.#handlers.set(method.toUpperCase(), handler)
    } else {
      this.#handlers.delete(method.toUpperCase())
    }
    this.#allowed = undefined
  }

  /**
   * Handles requests of `method` that carry a To tag but match no INVITE dialog: the dialogs of
   * subscriptions (RFC 6665), which their notifier keeps. Unclaimed ones still get 481.
   */
  setInDialogHandler(method: string, handler: InDialogHandler | undefined): void {
    if (handler) {
      this.#inDialogHandlers.set(method.toUpperCase(), handler)
    } else {
      this.#inDialogHandlers.delete(method.toUpperCase())
    }
    this.#allowed = undefined
  }

  get allowedMethods(): string[] {
    return [...this.#allowedMethods().methods]
  }

  #allowedMethods(): { methods: readonly string[]; set: ReadonlySet<string>; text: string } {
    if (!this.#allowed) {
      const set = new Set([
        ...CORE_METHODS,
        ...this.#inDialogMethods,
        ...this.#handlers.keys(),
        ...this.#inDialogHandlers.keys(),
      ])
      const methods = [...set]
      this.#allowed = { methods, set, text: methods.join(', ') }
    }
    return this.#allowed
  }

  get supportedOptionTags(): readonly string[] {
    return this.#supported
  }

  get dialogs(): SipDialog[] {
    return [...this.#dialogs.values()]
  }

  get dialogCount(): number {
    return this.#dialogs.size
  }

  get transactionCount(): number {
    return this.transactions.clientCount + this.transactions.serverCount
  }

  findDialog(callId: string, localTag: string, remoteTag: string): SipDialog | undefined {
    return this.#dialogs.get(dialogKey(callId, localTag, remoteTag))
  }

  /** Our Contact for a protocol. */
  contact(protocol: SipTransportProtocol = 'udp'): NameAddress {
    const address = this.#transport.localAddress(protocol)
    const params = new Map<string, string | null>()
    if (protocol !== 'udp') {
      params.set('transport', protocol === 'wss' ? 'ws' : protocol)
    }
    const uri = new SipUri({
      user: this.#contactUser,
      host: address?.host ?? this.#viaHost,
      port: address?.port,
      params,
    })
    return new NameAddress(uri)
  }

  /** SipTransportUser: called by the transport layer for every parsed request. */
  onRequest(request: SipRequest, source: RequestSource): void {
    this.receiveRequest(request, source)
  }

  /** SipTransportUser: called by the transport layer for every parsed response. */
  onResponse(response: SipResponse): void {
    this.receiveResponse(response)
  }

  receiveRequest(request: SipRequest, source: RequestSource): void {
    const outcome = this.transactions.receiveRequest(request, source)
    if (request.method === 'ACK') {
      // An ACK that matched no transaction acknowledges a 2xx: it belongs to its dialog.
      if (outcome.type === 'ack') {
        this.#dialogOf(request)?.receiveAck(request)
      }
      return
    }
    if (outcome.type !== 'new') {
      return
    }
    this.#dispatch(request, outcome.transaction, source)
  }

  receiveResponse(response: SipResponse): void {
    if (this.transactions.receiveResponse(response)) {
      return
    }
    // A 2xx retransmitted after its transaction ended (RFC 6026): the dialog sends the ACK again.
    if (response.isSuccess && response.cseq.method === 'INVITE') {
      const dialog = this.findDialog(
        response.callId,
        response.from.tag ?? '',
        response.to.tag ?? ''
      )
      dialog?.receiveSuccessRetransmission(response)
    }
  }

  /** Starts a call. The delegate (in the options or set on the result) follows its progress. */
  invite(options: InviteOptions): OutgoingInvite {
    const { request, destination } = this.#newRequest('INVITE', options, [
      ...this.#capabilityHeaders(),
      ...this.#sessionTimerRequestHeaders(),
    ])
    request.headers.set('Contact', this.contact(destination.protocol).toString())
    return new OutgoingInvite(
      request,
      destination,
      {
        services: this.#services,
        registerDialog: (dialog) => this.#registerDialog(dialog),
        send: (outgoing, to, handlers) => this.#send(outgoing, to, handlers),
      },
      options
    )
  }

  /** Sends a request outside any dialog (OPTIONS, REGISTER, MESSAGE ...). */
  request(options: SendRequestOptions): OutgoingRequest {
    const { request, destination } = this.#newRequest(options.method.toUpperCase(), options, [])
    if (options.contact) {
      request.headers.set('Contact', options.contact.toString())
    }
    options.prepare?.(request)
    return this.#send(request, destination, options)
  }

  /** Ends every dialog and transaction without signalling, for shutdown. */
  close(): void {
    for (const dialog of [...this.#dialogs.values()]) {
      dialog.terminate(DialogEndReason.Local)
    }
    this.transactions.terminateAll()
  }

  #dispatch(request: SipRequest, transaction: ServerTransaction, source: RequestSource): void {
    const method = request.method
    const reply = new IncomingRequest(request, transaction, this.#services.decorateResponse)
    if (request.maxForwards === 0 && method !== 'OPTIONS') {
      // OPTIONS with Max-Forwards 0 is answered: RFC 3261 11 lets it probe the last hop.
      reply.respond(483)
      return
    }
    if (!this.#allowedMethods().set.has(method)) {
      reply.respond(501)
      return
    }
    if (method === 'CANCEL') {
      this.#receiveCancel(reply)
      return
    }
    const unsupported = request.headers
      .getAll('require')
      .map((tag) => tag.trim())
      .filter((tag) => !this.#supported.includes(tag.toLowerCase()))
    if (unsupported.length > 0) {
      reply.respond(420, { headers: [['Unsupported', unsupported.join(', ')]] })
      return
    }
    if (request.to.tag !== undefined) {
      const dialog = this.#dialogOf(request)
      const inDialog = this.#inDialogHandlers.get(method)
      if (dialog) {
        dialog.receiveRequest(request, transaction)
      } else if (inDialog) {
        this.#runHandler(reply, () => {
          if (!inDialog(reply)) reply.respond(481)
        })
      } else {
        reply.respond(481)
      }
      return
    }
    if (this.#isMerged(request, transaction)) {
      reply.respond(482)
      return
    }
    if (method === 'INVITE') {
      this.#receiveInvite(request, transaction, source)
      return
    }
    if (DIALOG_ONLY_METHODS.has(method)) {
      reply.respond(481)
      return
    }
    const handler = this.#handlers.get(method)
    if (handler) {
      this.#runHandler(reply, () => handler(reply))
    } else if (method === 'OPTIONS') {
      reply.respond(200)
    } else {
      reply.respond(405)
    }
  }

  #receiveInvite(request: SipRequest, transaction: ServerTransaction, source: RequestSource): void {
    const localTag = this.#tokens()
    const incoming = new IncomingRequest(
      request,
      transaction,
      this.#services.decorateResponse,
      localTag
    )
    const handler = this.#inviteHandler
    if (!handler) {
      incoming.respond(480)
      return
    }
    if (sessionIntervalTooSmall(request, this.sessionTimer)) {
      incoming.respond(422, { headers: [['Min-SE', String(this.sessionTimer.minSE)]] })
      return
    }
    const invite = new IncomingInvite(incoming, {
      services: this.#services,
      registerDialog: (dialog) => this.#registerDialog(dialog),
      flow: source.responseDestination,
      localTag,
    })
    if (transaction instanceof InviteServerTransaction) {
      this.#cancelTargets.set(transaction, () => invite.cancelByPeer())
      this.#cancelTags.set(transaction, localTag)
      // Once answered, a CANCEL changes nothing (RFC 3261 9.2; cancelByPeer would return at
      // once): the transaction, which outlives the answer for its timers, lets the INVITE go.
      incoming.onResponse((response) => {
        if (response.isFinal) this.#cancelTargets.delete(transaction)
      })
    }
    this.#runHandler(incoming, () => handler(invite))
  }

  /** RFC 3261 9.2: 200 to the CANCEL, then 487 to the INVITE unless it was answered. */
  #receiveCancel(cancel: IncomingRequest): void {
    const target = this.transactions.findCancelTarget(cancel.request)
    if (!target) {
      cancel.respond(481)
      return
    }
    // RFC 3261 9.2: the 200 to the CANCEL carries the To tag of the INVITE's responses.
    const tag = this.#cancelTags.get(target)
    cancel.send(createResponse(cancel.request, 200, tag ? { toTag: tag } : {}))
    this.#cancelTargets.get(target)?.()
  }

  /**
   * RFC 3261 8.2.2.2: the same request reaching us twice over different paths (a forking proxy)
   * is answered 482 on the second path.
   */
  #isMerged(request: SipRequest, transaction: ServerTransaction): boolean {
    const key = [request.from.tag ?? '', request.callId, request.cseq.toString()].join('\n')
    const existing = this.#pendingRequests.get(key)
    if (existing && existing !== transaction && !existing.isTerminated) {
      return true
    }
    this.#pendingRequests.set(key, transaction)
    transaction.onTerminated(() => {
      if (this.#pendingRequests.get(key) === transaction) {
        this.#pendingRequests.delete(key)
      }
    })
    return false
  }

  #runHandler(request: IncomingRequest, run: () => void): void {
    try {
      run()
    } catch (error) {
      request.respond(500)
      this.#onHandlerError(error)
    }
  }

  #dialogOf(request: SipRequest): SipDialog | undefined {
    return this.findDialog(request.callId, request.to.tag ?? '', request.from.tag ?? '')
  }

  #registerDialog(dialog: SipDialog): void {
    this.#dialogs.set(dialog.key, dialog)
  }

  #newRequest(
    method: string,
    options: NewRequestOptions,
    extraHeaders: Array<[string, string]>
  ): { request: SipRequest; destination: SipDestination } {
    const destination = options.destination ?? this.#resolve(options.uri)
    const from = options.from ?? this.#defaultFrom(destination.protocol)
    const request = createRequest({
      method,
      uri: options.uri,
      via: this.#via(destination, this.transactions.newBranch()),
      from: from.withTag(options.fromTag ?? this.#tokens()),
      to: options.to ?? new NameAddress(options.uri),
      callId: options.callId ?? `${this.#tokens()}${this.#tokens()}`,
      cseq: options.cseq ?? 1 + Math.floor(this.#random() * 10_000),
      headers: [...this.#productHeaders('User-Agent'), ...extraHeaders, ...(options.headers ?? [])],
      body: options.description?.body,
      contentType: options.description?.contentType,
    })
    return { request, destination }
  }

  #send(
    request: SipRequest,
    destination: SipDestination,
    options: OutgoingRequestOptions
  ): OutgoingRequest {
    const outgoing = new OutgoingRequest(
      request,
      {
        transactions: this.transactions,
        transport: this.#transport.transportFor(destination.protocol),
        destination,
        authenticator: this.authenticator,
      },
      options
    )
    return outgoing.start()
  }

  #defaultFrom(protocol: SipTransportProtocol): NameAddress {
    const contact = this.contact(protocol).uri as SipUri
    return new NameAddress(contact.with({ port: undefined, params: new Map() }))
  }

  #via(destination: SipDestination, branch: string): string {
    const address = this.#transport.localAddress(destination.protocol)
    return userAgentVia(destination.protocol, address?.host ?? this.#viaHost, address?.port, branch)
  }

  #capabilityHeaders(): Array<[string, string]> {
    const headers: Array<[string, string]> = [['Allow', this.#allowedMethods().text]]
    if (this.#supported.length > 0) {
      headers.push(['Supported', this.#supported.join(', ')])
    }
    return headers
  }

  #sessionTimerRequestHeaders(): Array<[string, string]> {
    if (!this.sessionTimer.enabled) {
      return []
    }
    return [
      ['Session-Expires', String(this.sessionTimer.sessionExpires)],
      ['Min-SE', String(this.sessionTimer.minSE)],
    ]
  }

  #productHeaders(name: string): Array<[string, string]> {
    return this.#productName ? [[name, this.#productName]] : []
  }

  #decorate(response: SipResponse, request: SipRequest): void {
    const method = request.method
    const capabilities =
      response.status > 100 && (method === 'INVITE' || method === 'UPDATE' || method === 'OPTIONS')
    const listsMethods = capabilities || response.status === 405 || response.status === 501
    if (listsMethods && !response.headers.has('allow')) {
      response.headers.set('Allow', this.#allowedMethods().text)
    }
    if (capabilities && this.#supported.length > 0 && !response.headers.has('supported')) {
      response.headers.set('Supported', this.#supported.join(', '))
    }
    if (method === 'OPTIONS' && response.isSuccess && !response.headers.has('accept')) {
      response.headers.set('Accept', 'application/sdp')
    }
    if (this.#productName && !response.headers.has('server')) {
      response.headers.set('Server', this.#productName)
    }
  }

  #createServices(): DialogServices {
    const core = this
    return {
      clock: this.#clock,
      timers: this.transactions.timers,
      sessionTimer: this.sessionTimer,
      random: () => this.#random(),
      newBranch: () => this.transactions.newBranch(),
      via: (destination, branch) => this.#via(destination, branch),
      contact: (protocol) => this.contact(protocol),
      resolve: (uri) => this.#resolve(uri),
      transportFor: (protocol) => this.#transport.transportFor(protocol),
      capabilityHeaders: () => this.#capabilityHeaders(),
      decorateResponse: (response, request) => core.#decorate(response, request),
      sendRequest: (request, destination, options) => this.#send(request, destination, options),
      sendDirect: (message: SipMessage, transport: TransactionTransport, destination) => {
        try {
          transport.send(message, destination)
        } catch {
          // ACKs and 2xx retransmissions are best effort: the peer's or our timers recover.
        }
      },
      registerCancelTarget: (transaction, cancel) => this.#cancelTargets.set(transaction, cancel),
      dialogTerminated: (dialog) => {
        if (this.#dialogs.get(dialog.key) === dialog) {
          this.#dialogs.delete(dialog.key)
        }
      },
    }
  }
}
