import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import type SipMessage from '#sip/message/sip_message'
import NameAddress from '#sip/message/name_address'
import SipUri from '#sip/message/sip_uri'
import { createRequest } from '#sip/message/create_request'
import type { TimerHandle } from '#sip/clock/sip_clock'
import InviteServerTransaction from '#sip/transaction/invite_server_transaction'
import type { ServerTransaction } from '#sip/transaction/transaction_manager'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import IncomingRequest from '#sip/ua/incoming_request'
import type OutgoingRequest from '#sip/ua/outgoing_request'
import type { OutgoingRequestOptions } from '#sip/ua/outgoing_request'
import type { DialogServices } from '#sip/dialog/dialog_services'
import { DialogEndReason, DialogRole, DialogState } from '#sip/dialog/dialog_state'
import { dialogKey } from '#sip/dialog/dialog_key'
import { descriptionOf, type SessionDescription } from '#sip/dialog/session_description'
import SessionExpiresHeader, { Refresher } from '#sip/dialog/session_expires_header'
import SessionTimer, { SessionTimerState } from '#sip/dialog/session_timer'
import {
  answerSessionExpires,
  sessionIntervalTooSmall,
} from '#sip/dialog/session_timer_negotiation'
import SuccessResponseRetransmitter from '#sip/dialog/success_response_retransmitter'
import { glareRetryDelay } from '#sip/dialog/glare_retry_delay'

/** What the application is told about, and asked to answer, in a dialog. */
export interface DialogDelegate {
  /** A re-INVITE. Without a handler it is answered 200 with the unchanged local session. */
  onReinvite?(request: IncomingRequest): void
  /** An UPDATE (RFC 3311). Without a handler: 200, with the local session if it was an offer. */
  onUpdate?(request: IncomingRequest): void
  /** The ACK of our 2xx; carries the answer when our 2xx held the offer. */
  onAck?(ack: SipRequest): void
  /** INFO, MESSAGE, NOTIFY, REFER, OPTIONS ... in the dialog; must be answered. */
  onRequest?(request: IncomingRequest): void
  onTerminated?(reason: DialogEndReason): void
}

export interface OfferOptions {
  /** The offer; leave it out for a re-INVITE that asks the peer for one (RFC 3261 14.1). */
  description?: SessionDescription
  headers?: Array<[string, string]>
  /** For a re-INVITE without an offer: the answer to send in the ACK. Defaults to the local session. */
  answerForAck?: (response: SipResponse) => SessionDescription | undefined
  /** Called once with the final response (after a 491 retry, with the retry's). */
  onFinal?: (response: SipResponse) => void
}

export interface DialogRequestOptions extends OutgoingRequestOptions {
  description?: SessionDescription
  headers?: Array<[string, string]>
}

interface PendingOffer {
  offer: boolean
}

interface GlareRetry {
  timer: TimerHandle
  settle: () => void
}

interface SentAck {
  cseq: number
  ack: SipRequest
  destination: SipDestination
}

interface AwaitedAck {
  cseq: number
  retransmitter: SuccessResponseRetransmitter
}

interface DialogInit {
  role: DialogRole
  state: DialogState
  callId: string
  localTag: string
  remoteTag: string
  localUri: NameAddress
  remoteUri: NameAddress
  remoteTarget: SipUri
  routeSet: NameAddress[]
  localSeq?: number
  remoteSeq?: number
  flow?: SipDestination
  peerAllow: string[]
}

function withoutTag(address: NameAddress): NameAddress {
  const params = new Map(address.params)
  params.delete('tag')
  return new NameAddress(address.uri, address.displayName, params)
}

function contactUri(message: SipMessage): SipUri | undefined {
  const uri = message.contacts[0]?.uri
  return uri instanceof SipUri ? uri : undefined
}

function allowOf(message: SipMessage): string[] {
  return message.headers.getAll('allow').map((method) => method.trim().toUpperCase())
}

/**
 * An INVITE dialog (RFC 3261 12-15), from either side: its identifiers, route set, remote target
 * and sequence numbers; in-dialog requests built per 12.2.1.1; the ACK of 2xx responses (UAC) and
 * the retransmission of our 2xx until its ACK (UAS); re-INVITE and UPDATE with 491 glare retry;
 * BYE; and RFC 4028 session refresh.
 */
export default class SipDialog {
  readonly role: DialogRole
  readonly callId: string
  readonly localTag: string
  readonly remoteTag: string
  readonly localUri: NameAddress
  readonly remoteUri: NameAddress
  delegate: DialogDelegate = {}
  /**
   * Told each new local CSeq of a request that leaves the dialog open (re-INVITE, UPDATE, INFO,
   * REFER...; not BYE): whoever keeps a snapshot for crash recovery keeps its sequence current,
   * or the recovered BYE would come in below it and be refused (RFC 3261 12.2.2: 500).
   */
  onLocalSequence: ((sequence: number) => void) | undefined
  localDescription: SessionDescription | undefined
  remoteDescription: SessionDescription | undefined
  readonly #services: DialogServices
  readonly #sessionTimer: SessionTimer
  #state: DialogState
  #endReason: DialogEndReason | undefined
  #remoteTarget: SipUri
  #routeSet: NameAddress[]
  #localSeq: number | undefined
  #remoteSeq: number | undefined
  #flow: SipDestination | undefined
  #peerAllow: string[]
  #initialInvite: IncomingRequest | undefined
  #serverInvite: IncomingRequest | undefined
  #clientInvite: PendingOffer | undefined
  #clientUpdate: PendingOffer | undefined
  #glareRetry: GlareRetry | undefined
  #lastAck: SentAck | undefined
  #awaitedAck: AwaitedAck | undefined
  /** The headers of a BYE asked for while our 2xx waited for its ACK. */
  #byeAfterAck: Array<[string, string]> | null = null

  constructor(services: DialogServices, init: DialogInit) {
    this.#services = services
    this.role = init.role
    this.#state = init.state
    this.callId = init.callId
    this.localTag = init.localTag
    this.remoteTag = init.remoteTag
    this.localUri = init.localUri
    this.remoteUri = init.remoteUri
    this.#remoteTarget = init.remoteTarget
    this.#routeSet = init.routeSet
    this.#localSeq = init.localSeq
    this.#remoteSeq = init.remoteSeq
    this.#flow = init.flow
    this.#peerAllow = init.peerAllow
    this.#sessionTimer = new SessionTimer(services.clock, {
      refresh: () => this.#refreshSession(),
      expire: () => this.#sessionExpired(),
    })
  }

  /** The UAC side, from a 1xx with a To tag (early) or a 2xx (confirmed) (RFC 3261 12.1.2). */
  static forUac(
    services: DialogServices,
    invite: SipRequest,
    response: SipResponse,
    destination: SipDestination
  ): SipDialog {
    const dialog = new SipDialog(services, {
      role: DialogRole.Uac,
      state: response.isSuccess ? DialogState.Confirmed : DialogState.Early,
      callId: invite.callId,
      localTag: invite.from.tag ?? '',
      remoteTag: response.to.tag ?? '',
      localUri: withoutTag(invite.from),
      remoteUri: withoutTag(response.to),
      remoteTarget: contactUri(response) ?? invite.uri,
      routeSet: [...response.recordRoutes].reverse(),
      localSeq: invite.cseq.sequence,
      flow: destination,
      peerAllow: allowOf(response),
    })
    dialog.localDescription = descriptionOf(invite)
    return dialog
  }

  /** The UAS side, created early when we first answer the INVITE with a tag (RFC 3261 12.1.1). */
  static forUas(
    services: DialogServices,
    invite: IncomingRequest,
    localTag: string,
    flow: SipDestination
  ): SipDialog {
    const request = invite.request
    const dialog = new SipDialog(services, {
      role: DialogRole.Uas,
      state: DialogState.Early,
      callId: request.callId,
      localTag,
      remoteTag: request.from.tag ?? '',
      localUri: withoutTag(request.to),
      remoteUri: withoutTag(request.from),
      remoteTarget: contactUri(request) ?? request.uri,
      routeSet: [...request.recordRoutes],
      remoteSeq: request.cseq.sequence,
      flow,
      peerAllow: allowOf(request),
    })
    dialog.remoteDescription = descriptionOf(request)
    dialog.#initialInvite = invite
    dialog.#adoptServerInvite(invite)
    return dialog
  }

  get key(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag)
  }

  get state(): DialogState {
    return this.#state
  }

  get endReason(): DialogEndReason | undefined {
    return this.#endReason
  }

  get remoteTarget(): SipUri {
    return this.#remoteTarget
  }

  /** The client connection (a SIP WebSocket) requests to the peer go over, when it has one. */
  get flowConnectionId(): string | undefined {
    return this.#flow?.connectionId
  }

  get routeSet(): readonly NameAddress[] {
    return this.#routeSet
  }

  get localSequence(): number | undefined {
    return this.#localSeq
  }

  get remoteSequence(): number | undefined {
    return this.#remoteSeq
  }

  /** RFC 3261 14.1: the caller created the Call-ID, and waits longer after a 491. */
  get ownsCallId(): boolean {
    return this.role === DialogRole.Uac
  }

  get sessionTimer(): SessionTimer {
    return this.#sessionTimer
  }

  /** True while our 2xx has not been acknowledged. */
  get awaitingAck(): boolean {
    return this.#awaitedAck !== undefined
  }

  /** UAC: the 2xx to the dialog-creating INVITE; the route set is taken from it (RFC 12.2.1.2). */
  confirm(response: SipResponse): void {
    if (this.#state !== DialogState.Early) {
      return
    }
    this.#state = DialogState.Confirmed
    this.#routeSet = [...response.recordRoutes].reverse()
    this.#remoteTarget = contactUri(response) ?? this.#remoteTarget
    this.#peerAllow = allowOf(response)
  }

  /** UAC: acknowledges a 2xx to our INVITE (RFC 3261 13.2.2.4) and applies its session timer. */
  acknowledge(invite: SipRequest, response: SipResponse, answer?: SessionDescription): void {
    this.#sendAck(invite, response, answer)
    this.#applyClientSessionTimer(response)
  }

  /** A retransmitted 2xx means our ACK was lost: send the same ACK again. */
  receiveSuccessRetransmission(response: SipResponse): void {
    const sent = this.#lastAck
    if (sent && sent.cseq === response.cseq.sequence) {
      this.#services.sendDirect(
        sent.ack,
        this.#services.transportFor(sent.destination.protocol),
        sent.destination
      )
    }
  }

  receiveRequest(request: SipRequest, transaction: ServerTransaction): void {
    const incoming = this.#incoming(request, transaction)
    if (this.#state === DialogState.Terminated) {
      incoming.respond(481)
      return
    }
    const sequence = request.cseq.sequence
    if (this.#remoteSeq !== undefined && sequence <= this.#remoteSeq) {
      // RFC 3261 12.2.2: an out-of-order request; retransmissions never get here.
      incoming.respond(500, { reason: 'CSeq Out of Order' })
      return
    }
    this.#remoteSeq = sequence
    this.#followFlow(transaction.destination)
    switch (request.method) {
      case 'BYE':
        this.#receiveBye(incoming)
        return
      case 'INVITE':
        this.#receiveReinvite(incoming)
        return
      case 'UPDATE':
        this.#receiveUpdate(incoming)
        return
      default:
        if (this.delegate.onRequest) {
          this.delegate.onRequest(incoming)
        } else if (
          request.method === 'OPTIONS' ||
          (request.method === 'INFO' && request.body.length === 0)
        ) {
          // OPTIONS and an empty INFO (a keep-alive; a reconnected web phone moving its call) need no application.
          incoming.respond(200)
        } else {
          incoming.respond(405)
        }
    }
  }

  /** The ACK of one of our 2xx responses. */
  receiveAck(ack: SipRequest): void {
    const awaited = this.#awaitedAck
    if (!awaited || awaited.cseq !== ack.cseq.sequence) {
      return
    }
    awaited.retransmitter.acknowledge()
    this.#awaitedAck = undefined
    const answer = descriptionOf(ack)
    if (answer) {
      this.remoteDescription = answer
    }
    this.delegate.onAck?.(ack)
    if (this.#byeAfterAck && this.#state === DialogState.Confirmed) {
      this.#sendBye(this.#byeAfterAck)
      this.#terminate(DialogEndReason.ByeSent)
    }
  }

  /** Sends a request in the dialog (INFO, MESSAGE, ...), numbered from the local sequence. */
  request(method: string, options: DialogRequestOptions = {}): OutgoingRequest {
    if (this.#state === DialogState.Terminated) {
      throw new Error(`cannot send ${method} in a terminated dialog`)
    }
    const { request, destination } = this.#newRequest(method, {
      headers: options.headers,
      description: options.description,
    })
    return this.#services.sendRequest(request, destination, {
      ...options,
      nextCSeq: () => this.#nextLocalSeq(method),
      onFinal: (response) => {
        this.#checkPeerGone(method, response)
        options.onFinal?.(response)
      },
    })
  }

  /** Sends a re-INVITE (RFC 3261 14); resolves with its final response. */
  reinvite(options: OfferOptions = {}): Promise<SipResponse> {
    if (this.#state !== DialogState.Confirmed) {
      throw new Error('a re-INVITE needs a confirmed dialog')
    }
    if (this.#clientInvite) {
      throw new Error('a re-INVITE is already in progress in this dialog')
    }
    return new Promise((resolve) => this.#sendOffer('INVITE', options, resolve, false))
  }

  /** Sends an UPDATE (RFC 3311), with an offer or as a bare session refresh. */
  update(options: OfferOptions = {}): Promise<SipResponse> {
    if (this.#state === DialogState.Terminated) {
      throw new Error('cannot UPDATE a terminated dialog')
    }
    if (options.description && (this.#clientUpdate?.offer || this.#clientInvite?.offer)) {
      throw new Error('an offer is already in progress in this dialog')
    }
    return new Promise((resolve) => this.#sendOffer('UPDATE', options, resolve, false))
  }

  /**
   * Ends the dialog with BYE. The callee may not BYE an early dialog (it rejects the INVITE
   * instead) and waits for the ACK of its 2xx first (RFC 3261 15); false when nothing is sent.
   * `headers` go on the BYE (a Reason, RFC 3326).
   */
  bye(headers: Array<[string, string]> = []): boolean {
    if (this.#state === DialogState.Terminated) {
      return false
    }
    if (this.role === DialogRole.Uas && this.#state === DialogState.Early) {
      return false
    }
    if (this.#awaitedAck) {
      this.#byeAfterAck = headers
      return true
    }
    this.#sendBye(headers)
    this.#terminate(DialogEndReason.ByeSent)
    return true
  }

  /** Ends the dialog without signalling (shutdown, or an early dialog that lost). */
  terminate(reason: DialogEndReason = DialogEndReason.Local): void {
    this.#terminate(reason)
  }

  #incoming(request: SipRequest, transaction: ServerTransaction): IncomingRequest {
    const refresh = request.method === 'INVITE' || request.method === 'UPDATE'
    const sessionExpires = refresh
      ? answerSessionExpires(request, this.#services.sessionTimer)
      : undefined
    return new IncomingRequest(request, transaction, (response, answered) => {
      this.#services.decorateResponse(response, answered)
      if (!refresh || !response.isSuccess) {
        return
      }
      if (!response.headers.has('contact')) {
        response.headers.set('Contact', this.#contact().toString())
      }
      if (sessionExpires && !response.headers.has('session-expires')) {
        response.headers.set('Session-Expires', sessionExpires.toString())
        if (sessionExpires.refresher === Refresher.Uac) {
          response.headers.append('Require', 'timer')
        }
      }
    })
  }

  #adoptServerInvite(incoming: IncomingRequest): void {
    this.#serverInvite = incoming
    const transaction = incoming.transaction
    if (transaction instanceof InviteServerTransaction) {
      // A peer that reuses the INVITE's branch for the ACK of our 2xx reaches us this way.
      transaction.user = { ...transaction.user, receiveAck: (ack) => this.receiveAck(ack) }
    }
    incoming.onResponse((response) => {
      if (!response.isFinal) {
        return
      }
      if (this.#serverInvite === incoming) {
        this.#serverInvite = undefined
      }
      if (response.isSuccess) {
        this.#answeredWithSuccess(response, incoming.transaction)
      } else if (incoming === this.#initialInvite) {
        this.#terminate(DialogEndReason.NotConfirmed)
      }
    })
  }

  #answeredWithSuccess(response: SipResponse, transaction: ServerTransaction): void {
    if (this.#state === DialogState.Terminated) {
      return
    }
    this.#state = DialogState.Confirmed
    const description = descriptionOf(response)
    if (description) {
      this.localDescription = description
    }
    this.#awaitedAck?.retransmitter.stop()
    const retransmitter = new SuccessResponseRetransmitter(
      this.#services.clock,
      this.#services.timers,
      () => this.#services.sendDirect(response, transaction.transport, transaction.destination),
      () => this.#ackTimedOut()
    )
    this.#awaitedAck = { cseq: response.cseq.sequence, retransmitter }
    const sessionExpires = SessionExpiresHeader.from(response)
    if (sessionExpires) {
      this.#sessionTimer.start(sessionExpires.seconds, sessionExpires.refresher === Refresher.Uas)
    } else {
      this.#sessionTimer.stop()
    }
  }

  #ackTimedOut(): void {
    this.#awaitedAck = undefined
    if (this.#state === DialogState.Terminated) {
      return
    }
    // RFC 3261 13.3.1.4: the dialog is confirmed but the session ends.
    this.#sendBye()
    this.#terminate(DialogEndReason.AckTimeout)
  }

  #receiveBye(incoming: IncomingRequest): void {
    incoming.respond(200)
    // RFC 3261 15.1.2: a pending INVITE of ours in this dialog is answered 487.
    this.#serverInvite?.respond(487)
    this.#terminate(DialogEndReason.ByeReceived)
  }

  #receiveReinvite(incoming: IncomingRequest): void {
    const request = incoming.request
    if (this.#state !== DialogState.Confirmed || this.#clientInvite || this.#clientUpdate?.offer) {
      incoming.respond(491)
      return
    }
    if (this.#serverInvite?.canRespond || this.#awaitedAck) {
      // RFC 3261 14.2: the previous INVITE is not finished yet.
      const retryAfter = Math.floor(this.#services.random() * 10)
      incoming.respond(500, { headers: [['Retry-After', String(retryAfter)]] })
      return
    }
    if (this.#refuseSmallInterval(incoming)) {
      return
    }
    this.#refreshTarget(request)
    const offer = descriptionOf(request)
    if (offer) {
      this.remoteDescription = offer
    }
    if (incoming.transaction instanceof InviteServerTransaction) {
      this.#services.registerCancelTarget(incoming.transaction, () => incoming.respond(487))
    }
    this.#adoptServerInvite(incoming)
    if (this.delegate.onReinvite) {
      this.delegate.onReinvite(incoming)
    } else {
      incoming.respond(200, { description: this.localDescription })
    }
  }

  #receiveUpdate(incoming: IncomingRequest): void {
    const request = incoming.request
    const offer = descriptionOf(request)
    if (offer && (this.#clientInvite?.offer || this.#clientUpdate?.offer)) {
      incoming.respond(491)
      return
    }
    if (offer && this.#serverInvite?.canRespond) {
      const retryAfter = Math.floor(this.#services.random() * 10)
      incoming.respond(500, { headers: [['Retry-After', String(retryAfter)]] })
      return
    }
    if (this.#refuseSmallInterval(incoming)) {
      return
    }
    this.#refreshTarget(request)
    if (offer) {
      this.remoteDescription = offer
    }
    incoming.onResponse((response) => {
      if (!response.isSuccess || this.#state === DialogState.Terminated) {
        return
      }
      const answer = descriptionOf(response)
      if (answer) {
        this.localDescription = answer
      }
      const sessionExpires = SessionExpiresHeader.from(response)
      if (sessionExpires) {
        this.#sessionTimer.start(sessionExpires.seconds, sessionExpires.refresher === Refresher.Uas)
      }
    })
    if (this.delegate.onUpdate) {
      this.delegate.onUpdate(incoming)
    } else {
      incoming.respond(200, { description: offer ? this.localDescription : undefined })
    }
  }

  #refuseSmallInterval(incoming: IncomingRequest): boolean {
    const config = this.#services.sessionTimer
    if (!sessionIntervalTooSmall(incoming.request, config)) {
      return false
    }
    incoming.respond(422, { headers: [['Min-SE', String(config.minSE)]] })
    return true
  }

  #sendOffer(
    method: 'INVITE' | 'UPDATE',
    options: OfferOptions,
    resolve: (response: SipResponse) => void,
    isRetry: boolean
  ): void {
    const pending: PendingOffer = { offer: options.description !== undefined }
    const { request, destination } = this.#newRequest(method, {
      headers: [...this.#sessionTimerHeaders(), ...(options.headers ?? [])],
      description: options.description,
    })
    if (method === 'INVITE') {
      this.#clientInvite = pending
    } else {
      this.#clientUpdate = pending
    }
    const settle = (response: SipResponse) => {
      options.onFinal?.(response)
      resolve(response)
    }
    const outgoing: OutgoingRequest = this.#services.sendRequest(request, destination, {
      nextCSeq: () => this.#nextLocalSeq(method),
      onAdditionalSuccess: (response) => this.receiveSuccessRetransmission(response),
      onFinal: (response) => {
        if (method === 'INVITE' && this.#clientInvite === pending) {
          this.#clientInvite = undefined
        } else if (method === 'UPDATE' && this.#clientUpdate === pending) {
          this.#clientUpdate = undefined
        }
        if (response.isSuccess) {
          this.#offerAccepted(method, outgoing.request, response, options)
          settle(response)
        } else if (response.status === 491 && !isRetry && this.#state !== DialogState.Terminated) {
          this.#scheduleGlareRetry(method, options, resolve, response)
        } else {
          this.#checkPeerGone(method, response)
          settle(response)
        }
      },
    })
  }

  #offerAccepted(
    method: 'INVITE' | 'UPDATE',
    request: SipRequest,
    response: SipResponse,
    options: OfferOptions
  ): void {
    if (this.#state === DialogState.Terminated) {
      if (method === 'INVITE') {
        // The 2xx still needs its ACK, or the peer retransmits it for 32 s.
        this.#sendAck(request, response, undefined)
      }
      return
    }
    this.#refreshTarget(response)
    if (options.description) {
      this.localDescription = options.description
    }
    const remote = descriptionOf(response)
    if (remote) {
      this.remoteDescription = remote
    }
    if (method === 'INVITE') {
      const answer = options.description
        ? undefined
        : (options.answerForAck?.(response) ?? this.localDescription)
      this.#sendAck(request, response, answer)
    }
    this.#applyClientSessionTimer(response)
  }

  #scheduleGlareRetry(
    method: 'INVITE' | 'UPDATE',
    options: OfferOptions,
    resolve: (response: SipResponse) => void,
    response: SipResponse
  ): void {
    const settle = () => {
      options.onFinal?.(response)
      resolve(response)
    }
    const delay = glareRetryDelay(this.ownsCallId, () => this.#services.random())
    const timer = this.#services.clock.setTimeout(() => {
      this.#glareRetry = undefined
      const busy = method === 'INVITE' ? this.#clientInvite : this.#clientUpdate
      if (this.#state !== DialogState.Confirmed || busy) {
        settle()
        return
      }
      this.#sendOffer(method, options, resolve, true)
    }, delay)
    this.#glareRetry = { timer, settle }
  }

  #sessionTimerHeaders(): Array<[string, string]> {
    const config = this.#services.sessionTimer
    if (!config.enabled) {
      return []
    }
    const timer = this.#sessionTimer
    // Every re-INVITE or UPDATE refreshes the session (RFC 4028 7.4); the refresher stays put.
    const header =
      timer.state !== SessionTimerState.Stopped
        ? new SessionExpiresHeader(
            timer.intervalSeconds,
            timer.state === SessionTimerState.Refreshing ? Refresher.Uac : Refresher.Uas
          )
        : new SessionExpiresHeader(config.sessionExpires)
    return [
      ['Session-Expires', header.toString()],
      ['Min-SE', String(config.minSE)],
    ]
  }

  #applyClientSessionTimer(response: SipResponse): void {
    const sessionExpires = SessionExpiresHeader.from(response)
    if (sessionExpires) {
      // The refresher named in a response to our request is relative to us as its UAC.
      this.#sessionTimer.start(sessionExpires.seconds, sessionExpires.refresher !== Refresher.Uas)
    } else {
      // RFC 4028 7.2: a 2xx without Session-Expires means the peer runs no session timer.
      this.#sessionTimer.stop()
    }
  }

  #refreshSession(): void {
    if (this.#state !== DialogState.Confirmed || this.#clientInvite || this.#glareRetry) {
      return
    }
    if (this.#peerAllow.includes('UPDATE')) {
      void this.update({})
    } else {
      void this.reinvite({ description: this.localDescription })
    }
  }

  #sessionExpired(): void {
    if (this.#state === DialogState.Terminated) {
      return
    }
    this.#sendBye()
    this.#terminate(DialogEndReason.SessionExpired)
  }

  /** RFC 3261 12.2.1.2: 481 means the dialog is gone, 408 that the peer is (14.1: then BYE). */
  #checkPeerGone(method: string, response: SipResponse): void {
    if (method === 'BYE' || this.#state === DialogState.Terminated) {
      return
    }
    if (response.status === 481) {
      this.#terminate(DialogEndReason.PeerGone)
    } else if (response.status === 408) {
      this.#sendBye()
      this.#terminate(DialogEndReason.PeerGone)
    }
  }

  /** A target refresh request or its 2xx replaces the remote target (RFC 3261 12.2). */
  #refreshTarget(message: SipMessage): void {
    const target = contactUri(message)
    if (target) {
      this.#remoteTarget = target
    }
    const allow = allowOf(message)
    if (allow.length > 0) {
      this.#peerAllow = allow
    }
  }

  #sendBye(headers: Array<[string, string]> = []): void {
    try {
      this.request('BYE', { headers })
    } catch {
      // Ending the dialog must not fail on an unreachable peer: the transaction reports 503.
    }
  }

  #sendAck(
    invite: SipRequest,
    response: SipResponse,
    answer: SessionDescription | undefined
  ): void {
    const { request: ack, destination } = this.#newRequest('ACK', {
      cseq: invite.cseq.sequence,
      description: answer,
    })
    // RFC 3261 22.1: the ACK carries the INVITE's credentials.
    for (const name of ['Authorization', 'Proxy-Authorization']) {
      for (const value of invite.headers.getAll(name)) {
        ack.headers.append(name, value)
      }
    }
    this.#lastAck = { cseq: invite.cseq.sequence, ack, destination }
    const remote = descriptionOf(response)
    if (remote) {
      this.remoteDescription = remote
    }
    if (answer) {
      this.localDescription = answer
    }
    this.#services.sendDirect(ack, this.#services.transportFor(destination.protocol), destination)
  }

  #newRequest(
    method: string,
    options: { cseq?: number; headers?: Array<[string, string]>; description?: SessionDescription }
  ): { request: SipRequest; destination: SipDestination } {
    const { uri, routes, hop } = this.#target()
    const destination = this.#destinationFor(hop)
    const refresh = method === 'INVITE' || method === 'UPDATE'
    const request = createRequest({
      method,
      uri,
      via: this.#services.via(destination, this.#services.newBranch()),
      from: this.localUri.withTag(this.localTag),
      to: this.remoteTag ? this.remoteUri.withTag(this.remoteTag) : this.remoteUri,
      callId: this.callId,
      cseq: options.cseq ?? this.#nextLocalSeq(method),
      routes,
      contact: refresh ? this.#services.contact(destination.protocol) : undefined,
      headers: [...(refresh ? this.#services.capabilityHeaders() : []), ...(options.headers ?? [])],
      body: options.description?.body,
      contentType: options.description?.contentType,
    })
    return { request, destination }
  }

  /** RFC 3261 12.2.1.1: loose routing keeps the remote target; a strict router takes its place. */
  #target(): { uri: SipUri; routes: NameAddress[]; hop: SipUri } {
    const first = this.#routeSet[0]
    if (!first || !(first.uri instanceof SipUri)) {
      return { uri: this.#remoteTarget, routes: [...this.#routeSet], hop: this.#remoteTarget }
    }
    if (first.uri.param('lr') !== undefined) {
      return { uri: this.#remoteTarget, routes: [...this.#routeSet], hop: first.uri }
    }
    return {
      uri: first.uri,
      routes: [...this.#routeSet.slice(1), new NameAddress(this.#remoteTarget)],
      hop: first.uri,
    }
  }

  /**
   * A WebSocket client that reconnected (its old socket dropped) sends its next in-dialog request
   * over the new one; RFC 7118 clients have no other address, so the dialog follows it there.
   */
  #followFlow(source: SipDestination): void {
    const flow = this.#flow
    if (!flow?.connectionId || !source.connectionId || source.connectionId === flow.connectionId)
      return
    if ((flow.protocol === 'ws' || flow.protocol === 'wss') && source.protocol === flow.protocol)
      this.#flow = source
  }

  /**
   * Where the next hop is. A `.invalid` host (a WebSocket client, RFC 7118) can only be reached
   * over the flow the dialog came in on; the same address reuses that flow's connection.
   */
  #destinationFor(hop: SipUri): SipDestination {
    const flow = this.#flow
    if (flow && hop.host.toLowerCase().endsWith('.invalid')) {
      return flow
    }
    const resolved = this.#services.resolve(hop)
    const sameFlow =
      flow?.connectionId !== undefined &&
      flow.protocol === resolved.protocol &&
      flow.host === resolved.host &&
      flow.port === resolved.port
    return sameFlow ? { ...resolved, connectionId: flow.connectionId } : resolved
  }

  #contact(): NameAddress {
    return this.#services.contact(this.#flow?.protocol ?? 'udp')
  }

  #nextLocalSeq(method: string): number {
    // RFC 3261 12.1.1: the UAS's local sequence starts empty; any start below 2**31 will do.
    this.#localSeq =
      this.#localSeq === undefined
        ? 1 + Math.floor(this.#services.random() * 10_000)
        : this.#localSeq + 1
    if (method !== 'BYE') this.onLocalSequence?.(this.#localSeq)
    return this.#localSeq
  }

  #terminate(reason: DialogEndReason): void {
    if (this.#state === DialogState.Terminated) {
      return
    }
    this.#state = DialogState.Terminated
    this.#endReason = reason
    this.#sessionTimer.stop()
    this.#awaitedAck?.retransmitter.stop()
    this.#awaitedAck = undefined
    const glare = this.#glareRetry
    if (glare) {
      this.#glareRetry = undefined
      this.#services.clock.clearTimeout(glare.timer)
      glare.settle()
    }
    this.#services.dialogTerminated(this)
    const delegate = this.delegate
    // A terminated dialog calls no delegate again (requests get 481, ACKs are dropped), but it
    // lives on in the transactions of its last messages (up to 64*T1): it lets go of the
    // application's objects now, or they would live on with it (issue 17).
    this.delegate = {}
    this.onLocalSequence = undefined
    delegate.onTerminated?.(reason)
  }
}
