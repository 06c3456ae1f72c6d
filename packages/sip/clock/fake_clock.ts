import type { SipClock, TimerHandle } from '#sip/clock/sip_clock'

interface ScheduledTimer {
  id: number
  dueAt: number
  callback: () => void
}

/**
 * Virtual time for tests. Nothing runs until `advance()`, which fires due timers in order of
 * their due time (then of scheduling), including timers scheduled by those callbacks.
 */
export default class FakeClock implements SipClock {
  #now: number
  #nextId = 1
  #timers = new Map<number, ScheduledTimer>()

  constructor(startAt = 0) {
    this.#now = startAt
  }

  now(): number {
    return this.#now
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.#nextId++
    this.#timers.set(id, { id, dueAt: this.#now + Math.max(0, delayMs), callback })
    return { id }
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle.id)
  }

  advance(ms: number): void {
    const target = this.#now + ms
    for (;;) {
      const next = this.#nextDue()
      if (!next || next.dueAt > target) {
        break
      }
      this.#timers.delete(next.id)
      this.#now = next.dueAt
      next.callback()
    }
    this.#now = target
  }

  /** Advances to each pending timer in turn until none is left or `limitMs` has passed. */
  runAll(limitMs = 3_600_000): void {
    const end = this.#now + limitMs
    for (let next = this.#nextDue(); next && next.dueAt <= end; next = this.#nextDue()) {
      this.advance(next.dueAt - this.#now)
    }
  }

  get pending(): number {
    return this.#timers.size
  }

  #nextDue(): ScheduledTimer | undefined {
    let earliest: ScheduledTimer | undefined
    for (const timer of this.#timers.values()) {
      const sooner =
        !earliest ||
        timer.dueAt < earliest.dueAt ||
        (timer.dueAt === earliest.dueAt && timer.id < earliest.id)
      if (sooner) {
        earliest = timer
      }
    }
    return earliest
  }
}
