import SipHeaders from '#sip/message/sip_headers'
import SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import SipTransaction, { type TransactionContext } from '#sip/transaction/sip_transaction'
import type { ClientTransactionUser } from '#sip/transaction/transaction_user'

/** RFC 3261 17.1.1 (Figure 5) with the Accepted state of RFC 6026. */
export enum InviteClientState {
  Calling = 'calling',
  Proceeding = 'proceeding',
  Completed = 'completed',
  Accepted = 'accepted',
  Terminated = 'terminated',
}

/**
 * The ACK for a non-2xx final response (RFC 3261 17.1.1.3): same Request-URI, Call-ID, From,
 * CSeq number and top Via (so it matches the server transaction), To from the response, and the
 * request's Route set.
 */
function ackForFailure(request: SipRequest, response: SipResponse): SipRequest {
  const headers = new SipHeaders()
  headers.append('Via', request.topVia.toString())
  for (const route of request.headers.getAll('route')) {
    headers.append('Route', route)
  }
  headers.append('Max-Forwards', '70')
  headers.append('From', request.headers.get('from') ?? request.from.toString())
  headers.append('To', response.headers.get('to') ?? response.to.toString())
  headers.append('Call-ID', request.callId)
  headers.append('CSeq', `${request.cseq.sequence} ACK`)
  return new SipRequest('ACK', request.uri, headers)
}

/**
 * Sends an INVITE and retransmits it on unreliable transports with Timer A (T1, doubling) until
 * a response arrives or Timer B (64*T1) gives up. It acknowledges non-2xx finals itself and
 * absorbs their retransmissions for Timer D; a 2xx goes to the user, who sends the ACK from the
 * dialog layer, and later 2xx retransmissions follow it until Timer M (RFC 6026).
 */
export default class InviteClientTransaction extends SipTransaction<InviteClientState> {
  protected readonly terminatedState = InviteClientState.Terminated
  #user: ClientTransactionUser | undefined
  #intervalA: number
  #ack: SipRequest | undefined

  constructor(context: TransactionContext, user: ClientTransactionUser) {
    super(context, InviteClientState.Calling)
    this.#user = user
    this.#intervalA = this.timers.t1
  }

  /** The ACK sent for a non-2xx final response, once there was one. */
  get ack(): SipRequest | undefined {
    return this.#ack
  }

  start(): void {
    if (!this.transport.reliable) {
      this.startTimer('A', this.#intervalA, () => this.#onTimerA())
    }
    this.startTimer('B', 64 * this.timers.t1, () => this.#onTimerB())
    this.send(this.request)
  }

  receiveResponse(response: SipResponse): void {
    switch (this.state) {
      case InviteClientState.Calling:
      case InviteClientState.Proceeding:
        if (response.isProvisional) {
          // Provisional responses stop retransmission; Timer B no longer applies (Figure 5).
          this.stopTimer('A', 'B')
          this.transition(InviteClientState.Proceeding)
        } else if (response.isSuccess) {
          this.stopTimer('A', 'B')
          this.transition(InviteClientState.Accepted)
          this.startTimer('M', 64 * this.timers.t1, () => this.terminate())
        } else {
          this.stopTimer('A', 'B')
          this.transition(InviteClientState.Completed)
          this.#ack = ackForFailure(this.request, response)
          // The ACK goes out before the user hears of the response, so that a retry it starts
          // (a new INVITE with credentials after 401/407) cannot overtake the ACK: peers such as
          // sipp abort the call when the new INVITE comes first. A failed ACK is reported after
          // the response, as before.
          let ackError: { error: unknown } | undefined
          try {
            this.transport.send(this.#ack, this.destination)
          } catch (error) {
            ackError = { error }
          }
          const user = this.#user
          // Timer D only resends the ACK: neither the INVITE nor its user is needed again (a
          // carrier's 401/407 would otherwise keep our first INVITE for 32 s)
          this.#user = undefined
          this.releaseRequest()
          user?.receiveResponse(response)
          if (ackError) {
            this.transportError(ackError.error)
            user?.transportError?.(ackError.error)
            return
          }
          if (this.transport.reliable) {
            this.terminate()
          } else {
            this.startTimer('D', this.timers.timerD, () => this.terminate())
          }
          return
        }
        this.#user?.receiveResponse(response)
        return
      case InviteClientState.Completed:
        // A retransmitted final response means our ACK was lost: send it again.
        if (response.isFinal && !response.isSuccess && this.#ack) {
          this.send(this.#ack)
        }
        return
      case InviteClientState.Accepted:
        if (response.isSuccess) {
          this.#user?.receiveResponse(response)
        }
        return
      case InviteClientState.Terminated:
        return
    }
  }

  protected notifyTransportError(error: unknown): void {
    this.#user?.transportError?.(error)
  }

  #onTimerA(): void {
    if (this.state !== InviteClientState.Calling) {
      return
    }
    this.#intervalA *= 2
    this.startTimer('A', this.#intervalA, () => this.#onTimerA())
    this.send(this.request)
  }

  #onTimerB(): void {
    if (this.state !== InviteClientState.Calling) {
      return
    }
    this.terminate()
    this.#user?.timeout?.()
  }
}
