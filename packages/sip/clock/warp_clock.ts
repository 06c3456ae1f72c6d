import { performance } from 'node:perf_hooks'
import type { SipClock, TimerHandle } from '#sip/clock/sip_clock'

interface WarpTimer {
  dueAt: number
  callback: () => void
  timer: NodeJS.Timeout
}

/**
 * The real clock, whose time a test can move forward: `warp(ms)` fires at once (in order of due
 * time) what would have fired within `ms`, and brings every later timer `ms` nearer. For a whole
 * server under test, where the RFC 3261 timers run on real time with real peers, but waiting out
 * Timer J or L (32 s) would only cost the suite time.
 */
export default class WarpClock implements SipClock {
  #nextId = 1
  #offset = 0
  #timers = new Map<number, WarpTimer>()

  now(): number {
    return performance.now() + this.#offset
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.#nextId++
    const delay = Math.max(0, delayMs)
    this.#timers.set(id, { dueAt: this.now() + delay, callback, timer: this.#arm(id, delay) })
    return { id }
  }

  clearTimeout(handle: TimerHandle): void {
    const entry = this.#timers.get(handle.id)
    if (entry) {
      clearTimeout(entry.timer)
      this.#timers.delete(handle.id)
    }
  }

  /** Moves time forward by `ms`. */
  warp(ms: number): void {
    this.#offset += ms
    const now = this.now()
    const byDue = [...this.#timers].sort((a, b) => a[1].dueAt - b[1].dueAt || a[0] - b[0])
    for (const [id, entry] of byDue) {
      clearTimeout(entry.timer)
      entry.timer = this.#arm(id, Math.max(0, entry.dueAt - now))
    }
  }

  get pending(): number {
    return this.#timers.size
  }

  #arm(id: number, delayMs: number) {
    return setTimeout(() => {
      const entry = this.#timers.get(id)
      if (!entry) return
      this.#timers.delete(id)
      entry.callback()
    }, delayMs)
  }
}
