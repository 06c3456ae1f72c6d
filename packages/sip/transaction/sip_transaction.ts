import type SipMessage from '#sip/message/sip_message'
import type SipRequest from '#sip/message/sip_request'
import type { SipClock, TimerHandle } from '#sip/clock/sip_clock'
import type { TimerConfig } from '#sip/transaction/timer_config'
import type { SipDestination, TransactionTransport } from '#sip/transaction/transaction_transport'

export interface TransactionContext {
  request: SipRequest
  transport: TransactionTransport
  destination: SipDestination
  clock: SipClock
  timers: Readonly<TimerConfig>
}

/**
 * What the four RFC 3261 state machines share: the named timers they run, sending with
 * transport errors turned into termination, and the termination notice the manager listens to.
 * The state machines themselves live in their own files.
 */
export default abstract class SipTransaction<State extends string> {
  /** Branch of the top Via: with the method, what identifies this transaction (RFC 3261 17.1.3). */
  readonly branch: string | undefined
  readonly transport: TransactionTransport
  readonly destination: SipDestination
  protected readonly clock: SipClock
  protected readonly timers: Readonly<TimerConfig>
  #state: State
  #request: SipRequest | undefined
  #running = new Map<string, TimerHandle>()
  #terminatedListeners: Array<() => void> = []

  protected abstract readonly terminatedState: State

  constructor(context: TransactionContext, initialState: State) {
    this.#request = context.request
    this.branch = context.request.topVia.branch
    this.transport = context.transport
    this.destination = context.destination
    this.clock = context.clock
    this.timers = context.timers
    this.#state = initialState
  }

  get state(): State {
    return this.#state
  }

  get isTerminated(): boolean {
    return this.#state === this.terminatedState
  }

  /** The request that started the transaction, until it is released (see `releaseRequest`). */
  get request(): SipRequest {
    if (!this.#request) {
      throw new Error(`the transaction's request was released in state ${this.#state}`)
    }
    return this.#request
  }

  /**
   * The transaction has nothing left to send that needs its request (it only absorbs
   * retransmissions, or resends a response it keeps): let the request go. A completed
   * transaction lives on for its timers (up to 64*T1), and what it keeps lives on with it: a
   * challenged INVITE or a BYE would otherwise outlive two scavenges and be copied into the old
   * generation for nothing (bench/README.md, eighteenth round of the call set-ups).
   */
  protected releaseRequest(): void {
    this.#request = undefined
  }

  /** Names of the timers now running, for tests and diagnostics. */
  get runningTimers(): string[] {
    return [...this.#running.keys()]
  }

  onTerminated(listener: () => void): void {
    this.#terminatedListeners.push(listener)
  }

  /** Ends the transaction at once, e.g. when the stack shuts down. */
  terminate(): void {
    if (this.isTerminated) {
      return
    }
    for (const handle of this.#running.values()) {
      this.clock.clearTimeout(handle)
    }
    this.#running.clear()
    this.#state = this.terminatedState
    for (const listener of this.#terminatedListeners.splice(0)) {
      listener()
    }
  }

  /** Called by the transport when a send failed after `send` returned (a closed connection). */
  transportError(error: unknown): void {
    if (this.isTerminated) {
      return
    }
    this.terminate()
    this.notifyTransportError(error)
  }

  protected abstract notifyTransportError(error: unknown): void

  protected transition(state: State): void {
    this.#state = state
  }

  protected send(message: SipMessage): boolean {
    try {
      this.transport.send(message, this.destination, (error) => this.transportError(error))
      return true
    } catch (error) {
      this.transportError(error)
      return false
    }
  }

  protected startTimer(name: string, delayMs: number, fire: () => void): void {
    this.stopTimer(name)
    const handle = this.clock.setTimeout(() => {
      this.#running.delete(name)
      fire()
    }, delayMs)
    this.#running.set(name, handle)
  }

  protected stopTimer(...names: string[]): void {
    for (const name of names) {
      const handle = this.#running.get(name)
      if (handle) {
        this.clock.clearTimeout(handle)
        this.#running.delete(name)
      }
    }
  }
}
