import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import { BRANCH_MAGIC_COOKIE } from '#sip/message/via_header'
import { randomToken, type TokenSource } from '#sip/message/random_token'
import type { SipClock } from '#sip/clock/sip_clock'
import InviteClientTransaction from '#sip/transaction/invite_client_transaction'
import NonInviteClientTransaction from '#sip/transaction/non_invite_client_transaction'
import InviteServerTransaction from '#sip/transaction/invite_server_transaction'
import NonInviteServerTransaction from '#sip/transaction/non_invite_server_transaction'
import { resolveTimers, type TimerConfig } from '#sip/transaction/timer_config'
import type { SipDestination, TransactionTransport } from '#sip/transaction/transaction_transport'
import type { ClientTransactionUser } from '#sip/transaction/transaction_user'

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction

export interface TransactionManagerOptions {
  clock: SipClock
  timers?: Partial<TimerConfig>
  tokens?: TokenSource
}

/** Where a request came from: the transport it arrived on and where its responses go. */
export interface RequestSource {
  transport: TransactionTransport
  responseDestination: SipDestination
}

export type IncomingRequestOutcome =
  /** A new request: the core decides who handles it and answers through the transaction. */
  | { type: 'new'; transaction: ServerTransaction }
  /** A retransmission, or the ACK of a non-2xx: the matching transaction dealt with it. */
  | { type: 'absorbed'; transaction: ServerTransaction }
  /** An ACK that matches no transaction: the ACK of a 2xx, which belongs to the dialog layer. */
  | { type: 'ack'; request: SipRequest }

/**
 * Creates transactions and routes incoming messages to them (RFC 3261 17.1.3 and 17.2.3).
 * Responses match a client transaction by top-Via branch and CSeq method; requests match a
 * server transaction by branch, sent-by and method, with ACK matching its INVITE. Requests from
 * RFC 2543 peers (no magic cookie) fall back to a key made of the dialog and CSeq fields.
 * Transactions remove themselves once terminated.
 */
export default class TransactionManager {
  readonly timers: Readonly<TimerConfig>
  readonly #clock: SipClock
  readonly #tokens: TokenSource
  #clients = new Map<string, ClientTransaction>()
  #servers = new Map<string, ServerTransaction>()

  constructor(options: TransactionManagerOptions) {
    this.#clock = options.clock
    this.timers = resolveTimers(options.timers)
    this.#tokens = options.tokens ?? randomToken
  }

  /** A fresh branch for the Via of a new request; unique per transaction (RFC 3261 8.1.1.7). */
  newBranch(): string {
    return `${BRANCH_MAGIC_COOKIE}${this.#tokens()}`
  }

  /**
   * Starts a client transaction for a request whose top Via already carries a branch from
   * `newBranch()`. ACK is not a transaction: the dialog layer sends it directly.
   */
  sendRequest(
    request: SipRequest,
    transport: TransactionTransport,
    destination: SipDestination,
    user: ClientTransactionUser
  ): ClientTransaction {
    if (request.method === 'ACK') {
      throw new Error('ACK is sent outside of a client transaction')
    }
    const branch = request.topVia.branch
    if (!branch?.startsWith(BRANCH_MAGIC_COOKIE)) {
      throw new Error('the top Via of an outgoing request needs a branch from newBranch()')
    }
    const key = clientKey(branch, request.method)
    if (this.#clients.has(key)) {
      throw new Error('a client transaction with this branch and method already exists')
    }
    const context = { request, transport, destination, clock: this.#clock, timers: this.timers }
    const transaction =
      request.method === 'INVITE'
        ? new InviteClientTransaction(context, user)
        : new NonInviteClientTransaction(context, user)
    this.#clients.set(key, transaction)
    transaction.onTerminated(() => this.#clients.delete(key))
    transaction.start()
    return transaction
  }

  /** Hands a response to its client transaction; false when none matches (a stray response). */
  receiveResponse(response: SipResponse): boolean {
    const branch = response.topVia.branch
    if (!branch) {
      return false
    }
    const transaction = this.#clients.get(clientKey(branch, response.cseq.method))
    if (!transaction) {
      return false
    }
    transaction.receiveResponse(response)
    return true
  }

  receiveRequest(request: SipRequest, source: RequestSource): IncomingRequestOutcome {
    const existing = this.#servers.get(serverKey(request, request.method))
    if (request.method === 'ACK') {
      if (existing instanceof InviteServerTransaction) {
        existing.receiveAck(request)
        return { type: 'absorbed', transaction: existing }
      }
      return { type: 'ack', request }
    }
    if (existing) {
      existing.receiveRequest(request)
      return { type: 'absorbed', transaction: existing }
    }

    const context = {
      request,
      transport: source.transport,
      destination: source.responseDestination,
      clock: this.#clock,
      timers: this.timers,
    }
    const transaction =
      request.method === 'INVITE'
        ? new InviteServerTransaction(context)
        : new NonInviteServerTransaction(context)
    const key = serverKey(request, request.method)
    this.#servers.set(key, transaction)
    transaction.onTerminated(() => this.#servers.delete(key))
    return { type: 'new', transaction }
  }

  /** The INVITE server transaction a CANCEL refers to (RFC 3261 9.2), if it still exists. */
  findCancelTarget(cancel: SipRequest): InviteServerTransaction | undefined {
    const transaction = this.#servers.get(serverKey(cancel, 'INVITE'))
    return transaction instanceof InviteServerTransaction ? transaction : undefined
  }

  get clientCount(): number {
    return this.#clients.size
  }

  get serverCount(): number {
    return this.#servers.size
  }

  /** Ends every transaction and its timers, for shutdown. */
  terminateAll(): void {
    for (const transaction of [...this.#clients.values(), ...this.#servers.values()]) {
      transaction.terminate()
    }
  }
}

function clientKey(branch: string, method: string): string {
  return `${branch}\n${method}`
}

/**
 * RFC 3261 17.2.3. `method` is the method to match, so that ACK finds its INVITE and a CANCEL
 * can look up the INVITE it cancels.
 */
function serverKey(request: SipRequest, method: string): string {
  const matched = method === 'ACK' ? 'INVITE' : method
  const via = request.topVia
  const branch = via.branch
  if (branch?.startsWith(BRANCH_MAGIC_COOKIE)) {
    return `${branch}\n${via.sentBy}\n${matched}`
  }
  // RFC 2543 peers: the To tag is left out because the ACK carries one the INVITE did not.
  return [
    'rfc2543',
    request.uri.toString(),
    request.from.tag ?? '',
    request.callId,
    request.cseq.sequence,
    via.toString(),
    matched,
  ].join('\n')
}
