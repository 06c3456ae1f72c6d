/** An opaque handle for a scheduled callback. */
export interface TimerHandle {
  readonly id: number
}

/**
 * The time seam of the SIP stack: transactions and dialogs schedule through it, so tests can
 * drive RFC 3261 timers with FakeClock instead of waiting.
 */
export interface SipClock {
  /** Milliseconds, monotonic. */
  now(): number
  setTimeout(callback: () => void, delayMs: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}
