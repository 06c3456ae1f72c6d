import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import { createResponse } from '#sip/message/create_response'
import SipTransaction, { type TransactionContext } from '#sip/transaction/sip_transaction'
import type { ServerTransactionUser } from '#sip/transaction/transaction_user'

/** RFC 3261 17.2.1 (Figure 7) with the Accepted state of RFC 6026. */
export enum InviteServerState {
  Proceeding = 'proceeding',
  Completed = 'completed',
  Confirmed = 'confirmed',
  Accepted = 'accepted',
  Terminated = 'terminated',
}

/**
 * Answers an incoming INVITE. Sends 100 Trying itself if the user has not answered within
 * 200 ms; retransmits a non-2xx final response with Timer G (T1 doubling, capped at T2) until
 * the ACK comes or Timer H (64*T1) gives up, then absorbs ACK retransmissions for Timer I.
 * After a 2xx it stays Accepted for Timer L, passing the user's 2xx retransmissions on and
 * absorbing INVITE retransmissions (RFC 6026).
 */
export default class InviteServerTransaction extends SipTransaction<InviteServerState> {
  protected readonly terminatedState = InviteServerState.Terminated
  user: ServerTransactionUser | undefined
  #lastResponse: SipResponse | undefined
  #intervalG: number

  constructor(context: TransactionContext, user?: ServerTransactionUser) {
    super(context, InviteServerState.Proceeding)
    this.user = user
    this.#intervalG = this.timers.t1
    this.startTimer('Trying', this.timers.trying, () => this.#onTryingTimer())
  }

  get lastResponse(): SipResponse | undefined {
    return this.#lastResponse
  }

  /** Sends a response from the user. Throws if the state does not allow it (a bug above us). */
  respond(response: SipResponse): void {
    if (this.state === InviteServerState.Accepted && response.isSuccess) {
      this.send(response)
      return
    }
    if (this.state !== InviteServerState.Proceeding) {
      throw new Error(`INVITE server transaction cannot send ${response.status} in ${this.state}`)
    }
    this.stopTimer('Trying')
    this.#lastResponse = response
    if (response.isProvisional) {
      this.send(response)
    } else if (response.isSuccess) {
      this.transition(InviteServerState.Accepted)
      this.startTimer('L', 64 * this.timers.t1, () => this.terminate())
      this.send(response)
    } else {
      this.transition(InviteServerState.Completed)
      if (!this.transport.reliable) {
        this.startTimer('G', this.#intervalG, () => this.#onTimerG())
      }
      this.startTimer('H', 64 * this.timers.t1, () => this.#onTimerH())
      this.send(response)
    }
  }

  /** A retransmission of the INVITE: answer it with the latest response, if any. */
  receiveRequest(_request: SipRequest): void {
    if (
      (this.state === InviteServerState.Proceeding || this.state === InviteServerState.Completed) &&
      this.#lastResponse
    ) {
      this.send(this.#lastResponse)
    }
  }

  receiveAck(ack: SipRequest): void {
    switch (this.state) {
      case InviteServerState.Completed:
        this.stopTimer('G', 'H')
        this.transition(InviteServerState.Confirmed)
        // Confirmed only absorbs ACKs: the INVITE, its answer and its user are not needed again
        this.#lastResponse = undefined
        this.user = undefined
        this.releaseRequest()
        if (this.transport.reliable) {
          this.terminate()
        } else {
          this.startTimer('I', this.timers.t4, () => this.terminate())
        }
        return
      case InviteServerState.Accepted:
        this.user?.receiveAck?.(ack)
        return
      default:
        // Confirmed: Timer I absorbs ACK retransmissions. Proceeding: an ACK before any final
        // response is meaningless and dropped.
        return
    }
  }

  protected notifyTransportError(error: unknown): void {
    this.user?.transportError?.(error)
  }

  #onTryingTimer(): void {
    if (this.state === InviteServerState.Proceeding && !this.#lastResponse) {
      this.respond(createResponse(this.request, 100))
    }
  }

  #onTimerG(): void {
    if (this.state !== InviteServerState.Completed || !this.#lastResponse) {
      return
    }
    this.#intervalG = Math.min(2 * this.#intervalG, this.timers.t2)
    this.startTimer('G', this.#intervalG, () => this.#onTimerG())
    this.send(this.#lastResponse)
  }

  #onTimerH(): void {
    if (this.state !== InviteServerState.Completed) {
      return
    }
    this.terminate()
    this.user?.timeout?.()
  }
}
