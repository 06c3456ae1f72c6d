import { performance } from 'node:perf_hooks'
import type { SipClock, TimerHandle } from '#sip/clock/sip_clock'

/** The real clock, on Node's timers. */
export default class SystemClock implements SipClock {
  #nextId = 1
  #timers = new Map<number, NodeJS.Timeout>()

  now(): number {
    return performance.now()
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.#nextId++
    const timer = setTimeout(() => {
      this.#timers.delete(id)
      callback()
    }, delayMs)
    this.#timers.set(id, timer)
    return { id }
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.#timers.get(handle.id)
    if (timer) {
      clearTimeout(timer)
      this.#timers.delete(handle.id)
    }
  }

  /** Timers still scheduled; transactions should leave none behind once terminated. */
  get pending(): number {
    return this.#timers.size
  }
}
