import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import SipTransaction, { type TransactionContext } from '#sip/transaction/sip_transaction'
import type { ServerTransactionUser } from '#sip/transaction/transaction_user'

/** RFC 3261 17.2.2 (Figure 8). */
export enum NonInviteServerState {
  Trying = 'trying',
  Proceeding = 'proceeding',
  Completed = 'completed',
  Terminated = 'terminated',
}

/**
 * Answers an incoming non-INVITE request. Request retransmissions are answered with the latest
 * response (absorbed while there is none); after the final response Timer J (64*T1 on
 * unreliable transports) keeps absorbing them.
 */
export default class NonInviteServerTransaction extends SipTransaction<NonInviteServerState> {
  protected readonly terminatedState = NonInviteServerState.Terminated
  user: ServerTransactionUser | undefined
  #lastResponse: SipResponse | undefined

  constructor(context: TransactionContext, user?: ServerTransactionUser) {
    super(context, NonInviteServerState.Trying)
    this.user = user
  }

  get lastResponse(): SipResponse | undefined {
    return this.#lastResponse
  }

  /** Sends a response from the user. Throws after a final response (a bug above us). */
  respond(response: SipResponse): void {
    if (this.state === NonInviteServerState.Completed || this.isTerminated) {
      throw new Error(`non-INVITE server transaction cannot respond in ${this.state}`)
    }
    this.#lastResponse = response
    if (response.isProvisional) {
      this.transition(NonInviteServerState.Proceeding)
      this.send(response)
      return
    }
    this.transition(NonInviteServerState.Completed)
    if (!this.send(response)) {
      return
    }
    // Retransmissions get the final response again; nothing needs the request or the user now
    this.user = undefined
    this.releaseRequest()
    if (this.transport.reliable) {
      this.terminate()
    } else {
      this.startTimer('J', 64 * this.timers.t1, () => this.terminate())
    }
  }

  receiveRequest(_request: SipRequest): void {
    if (this.#lastResponse && this.state !== NonInviteServerState.Terminated) {
      this.send(this.#lastResponse)
    }
  }

  protected notifyTransportError(error: unknown): void {
    this.user?.transportError?.(error)
  }
}
