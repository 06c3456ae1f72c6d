import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import type IncomingRequest from '#sip/ua/incoming_request'
import type { RespondOptions } from '#sip/ua/incoming_request'
import SipDialog from '#sip/dialog/sip_dialog'
import type { DialogServices } from '#sip/dialog/dialog_services'
import { descriptionOf, type SessionDescription } from '#sip/dialog/session_description'
import { Refresher } from '#sip/dialog/session_expires_header'
import { answerSessionExpires } from '#sip/dialog/session_timer_negotiation'

export enum IncomingInviteState {
  /** Nothing but 100 Trying sent yet. */
  Waiting = 'waiting',
  /** A 1xx with our tag went out: an early dialog exists. */
  Early = 'early',
  Accepted = 'accepted',
  Rejected = 'rejected',
  /** CANCEL, or a BYE on the early dialog, ended it with 487. */
  Canceled = 'canceled',
}

export interface IncomingInviteDelegate {
  /** The caller gave up (CANCEL or BYE before the answer); the 487 has been sent. */
  onCanceled?(): void
}

export interface IncomingInviteContext {
  services: DialogServices
  registerDialog(dialog: SipDialog): void
  /** Where the INVITE came from; the dialog's requests reuse this flow when they can. */
  flow: SipDestination
  localTag: string
}

/**
 * A new INVITE waiting for the application's answer (the UAS side of RFC 3261 13.3). Every
 * response carries the same To tag, so the early dialog of a 1xx becomes the confirmed dialog of
 * the 2xx; the dialog then retransmits the 2xx until the ACK.
 */
export default class IncomingInvite {
  delegate: IncomingInviteDelegate = {}
  readonly incoming: IncomingRequest
  readonly #context: IncomingInviteContext
  #state = IncomingInviteState.Waiting
  #dialog: SipDialog | undefined
  #canceling = false

  constructor(incoming: IncomingRequest, context: IncomingInviteContext) {
    this.incoming = incoming
    this.#context = context
    incoming.onResponse((response) => this.#responded(response))
  }

  get request(): SipRequest {
    return this.incoming.request
  }

  get state(): IncomingInviteState {
    return this.#state
  }

  /** The early or confirmed dialog, once a response created it. */
  get dialog(): SipDialog | undefined {
    return this.#dialog
  }

  /** The caller's offer; undefined for an INVITE without one (then the 2xx carries ours). */
  get offer(): SessionDescription | undefined {
    return descriptionOf(this.request)
  }

  /** Sends a provisional response; above 100 it creates the early dialog. */
  progress(status = 180, options: RespondOptions = {}): boolean {
    if (status < 101 || status > 199 || !this.incoming.canRespond) {
      return false
    }
    this.#ensureDialog()
    return this.incoming.respond(status, this.#dialogResponse(options)) !== undefined
  }

  /** Answers 2xx; returns the confirmed dialog, or undefined when it is too late to answer. */
  accept(options: RespondOptions = {}, status = 200): SipDialog | undefined {
    if (!this.incoming.canRespond) {
      return undefined
    }
    const dialog = this.#ensureDialog()
    const headers = [...(options.headers ?? [])]
    const sessionExpires = answerSessionExpires(this.request, this.#context.services.sessionTimer)
    if (sessionExpires) {
      headers.push(['Session-Expires', sessionExpires.toString()])
      if (sessionExpires.refresher === Refresher.Uac) {
        headers.push(['Require', 'timer'])
      }
    }
    this.incoming.respond(status, this.#dialogResponse({ ...options, headers }))
    return dialog
  }

  /**
   * The dialog a 2xx will confirm, made now (the early one when a 1xx made it), so that its owner
   * can store it before it answers (crash recovery: the answer and the dialog in one write);
   * `accept` then confirms this dialog. Undefined when it is too late to answer; a final non-2xx
   * ends it, as it ends an early dialog.
   */
  prepareDialog(): SipDialog | undefined {
    return this.incoming.canRespond ? this.#ensureDialog() : undefined
  }

  reject(status = 486, options: RespondOptions = {}): boolean {
    if (status < 300 || !this.incoming.canRespond) {
      return false
    }
    return this.incoming.respond(status, options) !== undefined
  }

  /** The core found a CANCEL for this INVITE (RFC 3261 9.2). */
  cancelByPeer(): void {
    if (!this.incoming.canRespond) {
      return
    }
    this.#canceling = true
    this.incoming.respond(487)
  }

  #ensureDialog(): SipDialog {
    if (!this.#dialog) {
      const { services, localTag, flow } = this.#context
      this.#dialog = SipDialog.forUas(services, this.incoming, localTag, flow)
      this.#context.registerDialog(this.#dialog)
    }
    return this.#dialog
  }

  /** RFC 3261 12.1.1: dialog-creating responses carry our Contact and the Record-Route. */
  #dialogResponse(options: RespondOptions): RespondOptions {
    const headers: Array<[string, string]> = this.request.headers
      .getAll('record-route')
      .map((value) => ['Record-Route', value])
    headers.push([
      'Contact',
      this.#context.services.contact(this.#context.flow.protocol).toString(),
    ])
    return { ...options, headers: [...headers, ...(options.headers ?? [])] }
  }

  #responded(response: SipResponse): void {
    if (response.isProvisional) {
      if (response.status > 100 && this.#state === IncomingInviteState.Waiting) {
        this.#state = IncomingInviteState.Early
      }
      return
    }
    if (response.isSuccess) {
      this.#state = IncomingInviteState.Accepted
    } else if (response.status === 487 || this.#canceling) {
      // A 487 answers a CANCEL or a BYE on the early dialog; both mean the caller gave up.
      this.#state = IncomingInviteState.Canceled
      this.delegate.onCanceled?.()
    } else {
      this.#state = IncomingInviteState.Rejected
    }
    // Answered: the delegate is never called again. Let go of it, since the core keeps this
    // INVITE as a CANCEL's target while its transaction lives on (up to 64*T1 after the answer).
    this.delegate = {}
  }
}
