import type { SipClock, TimerHandle } from '#sip'

/**
 * Calls over a connection that may come back (a dropped web phone socket, a flow closed at the
 * SIP front) end after a grace period, once per connection: the timers of WebPhoneDisconnects and
 * FrontFlowClosures.
 */
export default class GracePeriodEnds {
  readonly #pending = new Map<string, TimerHandle>()

  constructor(
    private readonly clock: SipClock,
    private readonly graceSeconds: number,
    private readonly end: (id: string) => void
  ) {}

  /** Connections whose grace period is running. */
  get pending(): number {
    return this.#pending.size
  }

  /** Starts the grace period of `id`, unless it is running already. */
  start(id: string) {
    if (this.#pending.has(id)) return
    const timer = this.clock.setTimeout(() => {
      this.#pending.delete(id)
      this.end(id)
    }, this.graceSeconds * 1000)
    this.#pending.set(id, timer)
  }

  /** Cancels every running grace period (the node stops). */
  clear() {
    for (const timer of this.#pending.values()) this.clock.clearTimeout(timer)
    this.#pending.clear()
  }
}
