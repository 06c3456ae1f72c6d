import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import { createResponse } from '#sip/message/create_response'
import { renumberRequest } from '#sip/message/create_request'
import type { DigestCredentials } from '#sip/auth/digest'
import type TransactionManager from '#sip/transaction/transaction_manager'
import type { ClientTransaction } from '#sip/transaction/transaction_manager'
import type { SipDestination, TransactionTransport } from '#sip/transaction/transaction_transport'
import type ClientAuthenticator from '#sip/ua/client_authenticator'

export enum OutgoingRequestState {
  Pending = 'pending',
  /** A final response was delivered; an INVITE may still see 2xx retransmissions. */
  Completed = 'completed',
  /** The last client transaction ended. */
  Terminated = 'terminated',
}

/** Called synchronously, so that code driven by a fake clock sees responses at their time. */
export interface OutgoingRequestHandlers {
  onProgress?(response: SipResponse): void
  /** The final response of an attempt not retried; 408 stands for a timeout, 503 a transport error. */
  onFinal?(response: SipResponse): void
  /** INVITE only: every 2xx after the first, i.e. retransmissions and other forks (RFC 6026). */
  onAdditionalSuccess?(response: SipResponse): void
  onTerminated?(): void
  /** A 401/407 that is being answered with credentials (the registration client reuses it). */
  onChallenge?(response: SipResponse): void
}

export interface OutgoingRequestOptions extends OutgoingRequestHandlers {
  /** Credentials for this request; otherwise the core's credentials provider is asked. */
  credentials?: DigestCredentials
  /** False for requests that must not be retried with credentials (CANCEL). */
  authenticate?: boolean
  /** The CSeq of a retry; in a dialog it comes from the dialog's local sequence. */
  nextCSeq?: () => number
}

export interface OutgoingRequestContext {
  transactions: TransactionManager
  transport: TransactionTransport
  destination: SipDestination
  authenticator: ClientAuthenticator
}

/**
 * A request we send, across the client transactions it may take: a 401 and a 407 are each
 * answered once with digest credentials (RFC 3261 22.2), with a new branch and the next CSeq.
 * Callers can retry it the same way for their own reasons (422, 423).
 */
export default class OutgoingRequest {
  readonly response: Promise<SipResponse>
  readonly #context: OutgoingRequestContext
  readonly #options: OutgoingRequestOptions
  readonly #challenged = new Set<number>()
  #request: SipRequest
  #transaction: ClientTransaction | undefined
  #state = OutgoingRequestState.Pending
  #answered = false
  #finalResponse: SipResponse | undefined
  #failure: 'timeout' | 'transport' | undefined
  #resolve: (response: SipResponse) => void = () => {}

  constructor(
    request: SipRequest,
    context: OutgoingRequestContext,
    options: OutgoingRequestOptions = {}
  ) {
    this.#request = request
    this.#context = context
    this.#options = options
    this.response = new Promise((resolve) => {
      this.#resolve = resolve
    })
  }

  /** The request of the current attempt. */
  get request(): SipRequest {
    return this.#request
  }

  get destination(): SipDestination {
    return this.#context.destination
  }

  get transaction(): ClientTransaction | undefined {
    return this.#transaction
  }

  get state(): OutgoingRequestState {
    return this.#state
  }

  get finalResponse(): SipResponse | undefined {
    return this.#finalResponse
  }

  /**
   * Set when the final response is our own 408 (no answer) or 503 (transport error) rather than
   * the peer's: a health check must tell "the carrier said 503" from "nothing came back".
   */
  get failure(): 'timeout' | 'transport' | undefined {
    return this.#failure
  }

  start(): this {
    this.#send(this.#request)
    return this
  }

  /** Sends the request again in a new transaction with the next CSeq, changed by `change`. */
  retry(change?: (request: SipRequest) => void): void {
    const cseq = this.#options.nextCSeq?.() ?? this.#request.cseq.sequence + 1
    const request = renumberRequest(this.#request, this.#context.transactions.newBranch(), cseq)
    change?.(request)
    this.#request = request
    this.#state = OutgoingRequestState.Pending
    this.#answered = false
    this.#failure = undefined
    this.#send(request)
  }

  #send(request: SipRequest): void {
    const { transactions, transport, destination } = this.#context
    let transaction: ClientTransaction | undefined
    transaction = transactions.sendRequest(request, transport, destination, {
      receiveResponse: (response) => this.#receive(transaction, response),
      timeout: () => this.#fail(transaction, 408),
      transportError: () => this.#fail(transaction, 503),
    })
    if (transaction.isTerminated) {
      // The first send failed synchronously; #fail ran before the assignment could be compared.
      this.#transaction = transaction
      this.#fail(transaction, 503)
      this.#ended(transaction)
      return
    }
    this.#transaction = transaction
    transaction.onTerminated(() => this.#ended(transaction))
  }

  #receive(transaction: ClientTransaction | undefined, response: SipResponse): void {
    if (transaction !== this.#transaction || this.#answered) {
      if (response.isSuccess) {
        this.#options.onAdditionalSuccess?.(response)
      }
      return
    }
    if (response.isProvisional) {
      this.#options.onProgress?.(response)
      return
    }
    if (this.#answerChallenge(response)) {
      return
    }
    this.#finish(response)
  }

  #answerChallenge(response: SipResponse): boolean {
    const status = response.status
    if ((status !== 401 && status !== 407) || this.#options.authenticate === false) {
      return false
    }
    if (this.#challenged.has(status)) {
      return false
    }
    const header = this.#context.authenticator.authorize(
      response,
      this.#request,
      this.#options.credentials
    )
    if (!header) {
      return false
    }
    this.#challenged.add(status)
    this.#answered = true
    this.#options.onChallenge?.(response)
    this.retry((request) => request.headers.set(header.name, header.value))
    return true
  }

  #fail(transaction: ClientTransaction | undefined, status: number): void {
    if (transaction !== undefined && transaction !== this.#transaction) {
      return
    }
    if (!this.#answered) {
      this.#failure = status === 408 ? 'timeout' : 'transport'
      this.#finish(createResponse(this.#request, status))
    }
  }

  #finish(response: SipResponse): void {
    this.#answered = true
    this.#finalResponse = response
    this.#state = OutgoingRequestState.Completed
    const attempt = this.#transaction
    this.#options.onFinal?.(response)
    if (attempt === this.#transaction) {
      this.#resolve(response)
      if (attempt?.isTerminated) {
        // Timeouts and transport errors end the transaction before they are reported.
        this.#ended(attempt)
      }
    }
  }

  #ended(transaction: ClientTransaction): void {
    if (transaction !== this.#transaction || this.#state === OutgoingRequestState.Terminated) {
      return
    }
    if (!this.#answered) {
      return
    }
    this.#state = OutgoingRequestState.Terminated
    this.#options.onTerminated?.()
  }
}
