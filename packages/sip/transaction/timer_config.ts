/** RFC 3261 17 timer values in milliseconds; overridable per stack (tests, slow links). */
export interface TimerConfig {
  /** Round-trip estimate. */
  t1: number
  /** Cap on non-INVITE and response retransmission intervals. */
  t2: number
  /** How long a message may stay in the network. */
  t4: number
  /** Wait for response retransmissions after a non-2xx to INVITE; RFC 3261 asks 32 s or more. */
  timerD: number
  /** How long an INVITE server transaction waits for the TU before sending 100 Trying itself. */
  trying: number
}

export const DEFAULT_TIMERS: Readonly<TimerConfig> = Object.freeze({
  t1: 500,
  t2: 4000,
  t4: 5000,
  timerD: 32_000,
  trying: 200,
})

export function resolveTimers(overrides: Partial<TimerConfig> = {}): Readonly<TimerConfig> {
  return Object.freeze({ ...DEFAULT_TIMERS, ...overrides })
}
