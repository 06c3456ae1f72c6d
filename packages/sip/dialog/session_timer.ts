import type { SipClock, TimerHandle } from '#sip/clock/sip_clock'

export enum SessionTimerState {
  Stopped = 'stopped',
  /** We send the refreshes: at half the interval (RFC 4028 10). */
  Refreshing = 'refreshing',
  /** The peer sends them; we only watch for expiry. */
  Watching = 'watching',
}

export interface SessionTimerActions {
  refresh(): void
  expire(): void
}

/**
 * The clock side of RFC 4028 for one dialog. Every successful refresh restarts it with the
 * negotiated interval. The refresher refreshes at half the interval and gives up at the full
 * interval; the other side ends the session min(32 s, interval/3) before expiry (RFC 4028 10),
 * so that its BYE goes out before the refresher's own deadline.
 */
export default class SessionTimer {
  readonly #clock: SipClock
  readonly #actions: SessionTimerActions
  #state = SessionTimerState.Stopped
  #intervalSeconds = 0
  #refreshTimer: TimerHandle | undefined
  #expiryTimer: TimerHandle | undefined

  constructor(clock: SipClock, actions: SessionTimerActions) {
    this.#clock = clock
    this.#actions = actions
  }

  get state(): SessionTimerState {
    return this.#state
  }

  get intervalSeconds(): number {
    return this.#intervalSeconds
  }

  start(intervalSeconds: number, localRefresher: boolean): void {
    this.stop()
    this.#intervalSeconds = intervalSeconds
    const intervalMs = intervalSeconds * 1000
    if (localRefresher) {
      this.#state = SessionTimerState.Refreshing
      this.#refreshTimer = this.#clock.setTimeout(() => {
        this.#refreshTimer = undefined
        this.#actions.refresh()
      }, intervalMs / 2)
      this.#expiryTimer = this.#clock.setTimeout(() => this.#expire(), intervalMs)
    } else {
      this.#state = SessionTimerState.Watching
      const early = Math.min(32, intervalSeconds / 3) * 1000
      this.#expiryTimer = this.#clock.setTimeout(() => this.#expire(), intervalMs - early)
    }
  }

  stop(): void {
    for (const handle of [this.#refreshTimer, this.#expiryTimer]) {
      if (handle) {
        this.#clock.clearTimeout(handle)
      }
    }
    this.#refreshTimer = undefined
    this.#expiryTimer = undefined
    this.#state = SessionTimerState.Stopped
  }

  #expire(): void {
    this.#expiryTimer = undefined
    this.stop()
    this.#actions.expire()
  }
}
