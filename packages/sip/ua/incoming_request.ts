import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import { createResponse } from '#sip/message/create_response'
import type { ServerTransaction } from '#sip/transaction/transaction_manager'
import type { SessionDescription } from '#sip/dialog/session_description'

/** Adds the headers the core puts on every response (Allow, Supported, Server ...). */
export type ResponseDecorator = (response: SipResponse, request: SipRequest) => void

export interface RespondOptions {
  reason?: string
  headers?: Iterable<[string, string]>
  description?: SessionDescription
}

/**
 * A request received on a server transaction and waiting for its answer. Whoever handles it
 * (a dialog, the application) responds through it; listeners see every response sent, which is
 * how dialogs and INVITE handling follow an answer given from elsewhere.
 */
export default class IncomingRequest {
  readonly request: SipRequest
  readonly transaction: ServerTransaction
  readonly #decorate: ResponseDecorator
  readonly #toTag: string | undefined
  readonly #listeners: Array<(response: SipResponse) => void> = []
  #finalResponse: SipResponse | undefined

  constructor(
    request: SipRequest,
    transaction: ServerTransaction,
    decorate: ResponseDecorator,
    toTag?: string
  ) {
    this.request = request
    this.transaction = transaction
    this.#decorate = decorate
    this.#toTag = toTag
  }

  get method(): string {
    return this.request.method
  }

  get finalResponse(): SipResponse | undefined {
    return this.#finalResponse
  }

  /** True while a final response can still be sent. */
  get canRespond(): boolean {
    return this.#finalResponse === undefined && !this.transaction.isTerminated
  }

  onResponse(listener: (response: SipResponse) => void): void {
    this.#listeners.push(listener)
  }

  /** Sends a response; undefined when the request was already answered or its transaction ended. */
  respond(status: number, options: RespondOptions = {}): SipResponse | undefined {
    if (!this.canRespond) {
      return undefined
    }
    const response = createResponse(this.request, status, {
      reason: options.reason,
      toTag: this.#toTag,
      headers: options.headers,
      body: options.description?.body,
      contentType: options.description?.contentType,
    })
    return this.send(response)
  }

  /**
   * Sends a response built elsewhere (the registrar builds its own, with Contact and Date), with
   * the core's headers added; undefined when the request can no longer be answered.
   */
  send(response: SipResponse): SipResponse | undefined {
    if (!this.canRespond) {
      return undefined
    }
    this.#decorate(response, this.request)
    if (response.isFinal) {
      this.#finalResponse = response
    }
    this.transaction.respond(response)
    for (const listener of this.#listeners) {
      listener(response)
    }
    // Nothing is sent through here after a final response: the listeners (a dialog, the INVITE's
    // handling, and through them the application's call) are let go, so that the transaction,
    // which lives on for its retransmission timers (up to 64*T1), does not keep them (issue 17).
    if (response.isFinal) {
      this.#listeners.length = 0
    }
    return response
  }
}
