import SipHeaders from '#sip/message/sip_headers'
import SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import { createResponse } from '#sip/message/create_response'
import type { TimerHandle } from '#sip/clock/sip_clock'
import type { DigestCredentials } from '#sip/auth/digest'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import type OutgoingRequest from '#sip/ua/outgoing_request'
import SipDialog from '#sip/dialog/sip_dialog'
import type { DialogServices } from '#sip/dialog/dialog_services'
import { DialogEndReason, DialogState } from '#sip/dialog/dialog_state'
import type { SessionDescription } from '#sip/dialog/session_description'
import { readMinSessionExpires } from '#sip/dialog/session_expires_header'

export enum OutgoingInviteState {
  Calling = 'calling',
  Proceeding = 'proceeding',
  Accepted = 'accepted',
  Rejected = 'rejected',
  /** We canceled: a 487 came, or a 200 crossed the CANCEL and was ended with ACK and BYE. */
  Canceled = 'canceled',
}

export interface OutgoingInviteDelegate {
  /** A provisional response; `dialog` is the early dialog of its To tag, if it has one. */
  onProgress?(response: SipResponse, dialog: SipDialog | undefined): void
  onAccepted?(dialog: SipDialog, response: SipResponse): void
  /** A final failure; 408 stands for a timeout and 503 for a transport error. */
  onRejected?(response: SipResponse): void
  onCanceled?(response: SipResponse): void
}

export interface OutgoingInviteOptions {
  credentials?: DigestCredentials
  /** For an INVITE without an offer: the answer to the 2xx's offer, sent in the ACK. */
  answerForAck?: (response: SipResponse) => SessionDescription | undefined
  delegate?: OutgoingInviteDelegate
}

export interface OutgoingInviteContext {
  services: DialogServices
  registerDialog(dialog: SipDialog): void
  send(
    request: SipRequest,
    destination: SipDestination,
    handlers: Parameters<DialogServices['sendRequest']>[2]
  ): OutgoingRequest
}

/**
 * An INVITE we send (the UAC side of RFC 3261 13.2): one early dialog per To tag of a forking
 * peer; the first 2xx confirms its dialog and the ACK goes out from it; a 2xx from another fork
 * gets ACK and BYE (13.2.2.4). CANCEL waits for a provisional response (9.1); a 200 that crosses
 * the CANCEL is acknowledged and ended with BYE. 401/407 are answered by OutgoingRequest, 422 by
 * retrying with the peer's Min-SE (RFC 4028 7.4).
 */
export default class OutgoingInvite {
  delegate: OutgoingInviteDelegate
  readonly #context: OutgoingInviteContext
  readonly #answerForAck: OutgoingInviteOptions['answerForAck']
  readonly #destination: SipDestination
  readonly #dialogs = new Map<string, SipDialog>()
  #outgoing: OutgoingRequest
  #state = OutgoingInviteState.Calling
  #chosen: SipDialog | undefined
  #provisionalSeen = false
  #cancelRequested = false
  #cancelSent = false
  #cancelGuard: TimerHandle | undefined
  #intervalRetried = false

  constructor(
    request: SipRequest,
    destination: SipDestination,
    context: OutgoingInviteContext,
    options: OutgoingInviteOptions = {}
  ) {
    this.#context = context
    this.#answerForAck = options.answerForAck
    this.#destination = destination
    this.delegate = options.delegate ?? {}
    this.#outgoing = context.send(request, destination, {
      credentials: options.credentials,
      onProgress: (response) => this.#progress(response),
      onFinal: (response) => this.#final(response),
      onAdditionalSuccess: (response) => this.#additionalSuccess(response),
      onTerminated: () => this.#transactionEnded(),
    })
  }

  get state(): OutgoingInviteState {
    return this.#state
  }

  /** The INVITE as last sent (after any authentication retry). */
  get request(): SipRequest {
    return this.#outgoing.request
  }

  /** The confirmed dialog, once a 2xx came. */
  get dialog(): SipDialog | undefined {
    return this.#chosen
  }

  get earlyDialogs(): SipDialog[] {
    return [...this.#dialogs.values()].filter((dialog) => dialog.state === DialogState.Early)
  }

  /** Cancels the call unless it is already answered; false when it is too late. */
  cancel(): boolean {
    if (
      this.#state !== OutgoingInviteState.Calling &&
      this.#state !== OutgoingInviteState.Proceeding
    ) {
      return false
    }
    this.#cancelRequested = true
    if (this.#provisionalSeen && !this.#cancelSent) {
      this.#sendCancel()
    }
    return true
  }

  #progress(response: SipResponse): void {
    this.#provisionalSeen = true
    if (this.#state === OutgoingInviteState.Calling) {
      this.#state = OutgoingInviteState.Proceeding
    }
    const dialog = response.status > 100 && response.to.tag ? this.#dialogFor(response) : undefined
    if (this.#cancelRequested && !this.#cancelSent) {
      this.#sendCancel()
    }
    this.delegate.onProgress?.(response, dialog)
  }

  #final(response: SipResponse): void {
    this.#clearCancelGuard()
    if (response.isSuccess) {
      this.#accepted(response)
      return
    }
    if (response.status === 422 && this.#retryWithLargerInterval(response)) {
      return
    }
    this.#endEarlyDialogs()
    if (this.#cancelRequested) {
      this.#state = OutgoingInviteState.Canceled
      this.#settled().onCanceled?.(response)
    } else {
      this.#state = OutgoingInviteState.Rejected
      this.#settled().onRejected?.(response)
    }
  }

  #accepted(response: SipResponse): void {
    const dialog = this.#dialogFor(response)
    dialog.confirm(response)
    this.#chosen = dialog
    dialog.acknowledge(this.request, response, this.#answerFor(response))
    if (this.#cancelRequested) {
      // The 200 crossed our CANCEL: the call was wanted no more.
      this.#state = OutgoingInviteState.Canceled
      dialog.bye()
      this.#settled().onCanceled?.(response)
      return
    }
    this.#state = OutgoingInviteState.Accepted
    this.#settled().onAccepted?.(dialog, response)
  }

  /**
   * The delegate for the final outcome, the last call it gets: the INVITE lets go of it then,
   * since its transaction lives on for 2xx retransmissions (Timer M, 64*T1) and would keep the
   * application's call with it (issue 17).
   */
  #settled(): OutgoingInviteDelegate {
    const delegate = this.delegate
    this.delegate = {}
    return delegate
  }

  /** 2xx retransmissions get the ACK again; a 2xx from another fork gets ACK and BYE. */
  #additionalSuccess(response: SipResponse): void {
    const tag = response.to.tag ?? ''
    const known = this.#dialogs.get(tag)
    if (known && known.state !== DialogState.Early) {
      known.receiveSuccessRetransmission(response)
      return
    }
    const dialog = this.#dialogFor(response)
    dialog.confirm(response)
    dialog.acknowledge(this.request, response, this.#answerFor(response))
    dialog.bye()
  }

  #transactionEnded(): void {
    this.#clearCancelGuard()
    this.#endEarlyDialogs()
  }

  /** RFC 4028 7.4: retry once with the Min-SE of the 422 as our interval. */
  #retryWithLargerInterval(response: SipResponse): boolean {
    const minSE = readMinSessionExpires(response)
    if (this.#intervalRetried || this.#cancelRequested || minSE === undefined) {
      return false
    }
    this.#intervalRetried = true
    this.#endEarlyDialogs()
    this.#outgoing.retry((request) => {
      request.headers.set('Session-Expires', String(minSE))
      request.headers.set('Min-SE', String(minSE))
    })
    return true
  }

  #answerFor(response: SipResponse): SessionDescription | undefined {
    return this.request.body.length === 0 ? this.#answerForAck?.(response) : undefined
  }

  #dialogFor(response: SipResponse): SipDialog {
    const tag = response.to.tag ?? ''
    const known = this.#dialogs.get(tag)
    if (known) {
      return known
    }
    const dialog = SipDialog.forUac(
      this.#context.services,
      this.request,
      response,
      this.#destination
    )
    this.#dialogs.set(tag, dialog)
    this.#context.registerDialog(dialog)
    return dialog
  }

  #endEarlyDialogs(): void {
    for (const dialog of this.#dialogs.values()) {
      if (dialog.state === DialogState.Early) {
        dialog.terminate(DialogEndReason.NotConfirmed)
      }
    }
  }

  /** RFC 3261 9.1: same Request-URI, Call-ID, From, To, CSeq number, top Via and Route. */
  #sendCancel(): void {
    this.#cancelSent = true
    const invite = this.request
    const headers = new SipHeaders()
    headers.append('Via', invite.headers.getAll('via')[0])
    for (const route of invite.headers.getAll('route')) {
      headers.append('Route', route)
    }
    headers.append('Max-Forwards', '70')
    headers.append('From', invite.headers.get('from') ?? '')
    headers.append('To', invite.headers.get('to') ?? '')
    headers.append('Call-ID', invite.callId)
    headers.append('CSeq', `${invite.cseq.sequence} CANCEL`)
    const cancel = new SipRequest('CANCEL', invite.uri, headers)
    this.#context.send(cancel, this.#destination, { authenticate: false })
    // RFC 3261 9.1: without a final response 64*T1 after the CANCEL, the INVITE is given up.
    const { clock, timers } = this.#context.services
    this.#cancelGuard = clock.setTimeout(() => this.#giveUp(), 64 * timers.t1)
    // Ended otherwise (the stack closes at shutdown): the guard must not keep the process alive.
    const transaction = this.#outgoing.transaction
    if (transaction && !transaction.isTerminated)
      transaction.onTerminated(() => this.#clearCancelGuard())
  }

  #giveUp(): void {
    this.#cancelGuard = undefined
    if (
      this.#state !== OutgoingInviteState.Calling &&
      this.#state !== OutgoingInviteState.Proceeding
    ) {
      return
    }
    this.#outgoing.transaction?.terminate()
    this.#endEarlyDialogs()
    this.#state = OutgoingInviteState.Canceled
    this.#settled().onCanceled?.(createResponse(this.request, 408))
  }

  #clearCancelGuard(): void {
    if (this.#cancelGuard) {
      this.#context.services.clock.clearTimeout(this.#cancelGuard)
      this.#cancelGuard = undefined
    }
  }
}
