/** The interval seam of the heartbeat: tests tick it by hand instead of waiting. */
export interface HeartbeatTimer {
  setInterval(callback: () => void, ms: number): unknown
  clearInterval(handle: unknown): void
}

export const SYSTEM_HEARTBEAT_TIMER: HeartbeatTimer = {
  setInterval: (callback, ms) => {
    const handle = setInterval(callback, ms)
    handle.unref()
    return handle
  },
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
}

export interface HeartbeatOptions {
  /** Between two pings (1000 ms by default). */
  intervalMs?: number
  /** Ticks a ping may stay unanswered before the worker counts as hung (5 by default). */
  misses?: number
  timer?: HeartbeatTimer
}

/**
 * Tells a hung media worker from a busy one: every tick pings it unless the last ping is still
 * unanswered, in which case that tick is a miss; `misses` misses in a row (5 s by default) and
 * `onHung` runs once. A dead worker is noticed by its exit; a hung one (an endless loop, a
 * stopped process) answers nothing, so without this only its requests would time out.
 */
export default class Heartbeat {
  readonly intervalMs: number
  readonly misses: number
  #timer: HeartbeatTimer
  #handle: unknown = null
  #missed = 0
  /** The ping in flight; null once answered. */
  #waiting: Promise<unknown> | null = null

  constructor(
    private ping: () => Promise<unknown>,
    private onHung: () => void,
    options: HeartbeatOptions = {}
  ) {
    this.intervalMs = options.intervalMs ?? 1000
    this.misses = options.misses ?? 5
    this.#timer = options.timer ?? SYSTEM_HEARTBEAT_TIMER
  }

  get missed() {
    return this.#missed
  }

  start() {
    this.stop()
    this.#handle = this.#timer.setInterval(() => this.tick(), this.intervalMs)
  }

  stop() {
    if (this.#handle !== null) this.#timer.clearInterval(this.#handle)
    this.#handle = null
    this.#waiting = null
    this.#missed = 0
  }

  tick() {
    if (this.#handle === null) return
    if (this.#waiting) {
      if (++this.#missed < this.misses) return
      this.stop()
      this.onHung()
      return
    }
    const sent = this.ping()
    this.#waiting = sent
    sent.then(
      () => {
        if (this.#waiting !== sent) return
        this.#waiting = null
        this.#missed = 0
      },
      // A failed ping (the worker ended, a request timeout) stays unanswered: exit or misses decide
      () => {}
    )
  }
}
