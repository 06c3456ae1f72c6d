import type SipResponse from '#sip/message/sip_response'
import SipTransaction, { type TransactionContext } from '#sip/transaction/sip_transaction'
import type { ClientTransactionUser } from '#sip/transaction/transaction_user'

/** RFC 3261 17.1.2 (Figure 6). */
export enum NonInviteClientState {
  Trying = 'trying',
  Proceeding = 'proceeding',
  Completed = 'completed',
  Terminated = 'terminated',
}

/**
 * Sends a non-INVITE request (BYE, REGISTER, OPTIONS, CANCEL ...) and retransmits it on
 * unreliable transports with Timer E (T1 doubling, capped at T2; T2 once a provisional came)
 * until a final response or Timer F (64*T1). Timer K then absorbs retransmitted responses.
 */
export default class NonInviteClientTransaction extends SipTransaction<NonInviteClientState> {
  protected readonly terminatedState = NonInviteClientState.Terminated
  #user: ClientTransactionUser | undefined
  #intervalE: number

  constructor(context: TransactionContext, user: ClientTransactionUser) {
    super(context, NonInviteClientState.Trying)
    this.#user = user
    this.#intervalE = this.timers.t1
  }

  start(): void {
    if (!this.transport.reliable) {
      this.startTimer('E', this.#intervalE, () => this.#onTimerE())
    }
    this.startTimer('F', 64 * this.timers.t1, () => this.#onTimerF())
    this.send(this.request)
  }

  receiveResponse(response: SipResponse): void {
    if (!this.#awaitingFinal) {
      // Completed: Timer K is there to absorb retransmitted responses; Terminated: too late.
      return
    }
    if (response.isProvisional) {
      this.transition(NonInviteClientState.Proceeding)
      this.#user?.receiveResponse(response)
      return
    }
    this.stopTimer('E', 'F')
    this.transition(NonInviteClientState.Completed)
    const user = this.#user
    // Timer K only absorbs retransmitted responses: neither the request nor its user is needed
    this.#user = undefined
    this.releaseRequest()
    user?.receiveResponse(response)
    if (this.transport.reliable) {
      this.terminate()
    } else {
      this.startTimer('K', this.timers.t4, () => this.terminate())
    }
  }

  get #awaitingFinal(): boolean {
    return (
      this.state === NonInviteClientState.Trying || this.state === NonInviteClientState.Proceeding
    )
  }

  protected notifyTransportError(error: unknown): void {
    this.#user?.transportError?.(error)
  }

  #onTimerE(): void {
    if (this.state === NonInviteClientState.Trying) {
      this.#intervalE = Math.min(2 * this.#intervalE, this.timers.t2)
    } else if (this.state === NonInviteClientState.Proceeding) {
      this.#intervalE = this.timers.t2
    } else {
      return
    }
    this.startTimer('E', this.#intervalE, () => this.#onTimerE())
    this.send(this.request)
  }

  #onTimerF(): void {
    if (!this.#awaitingFinal) {
      return
    }
    this.terminate()
    this.#user?.timeout?.()
  }
}
