/** How long the carrier may take to answer an INVITE with 100 Trying before the next one is tried. */
export const TRYING_TIMEOUT_MS = 2000

/** What happened to one INVITE towards one carrier, as the SIP stack reports it. */
export type AttemptOutcome =
  | { kind: 'response'; status: number }
  /** No 100 Trying within TRYING_TIMEOUT_MS. */
  | { kind: 'no_trying' }
  | { kind: 'transport_error'; message?: string }

export type FailoverDecision = 'connected' | 'next_carrier' | 'final'

/** The carrier or network failed, not the callee: another carrier may well succeed. */
const RETRYABLE_STATUSES = new Set([408, 500, 502, 503, 504])

/**
 * Whether a failed attempt moves on to the next carrier. Only before any 18x: once the callee's
 * phone rings, a second carrier would ring it again. Busy, not found, unavailable, cancelled and
 * every 6xx are the callee's answer and final.
 */
export function decideFailover(outcome: AttemptOutcome, ringingSeen = false): FailoverDecision {
  if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300)
    return 'connected'
  if (ringingSeen) return 'final'
  switch (outcome.kind) {
    case 'transport_error':
    case 'no_trying':
      return 'next_carrier'
    case 'response':
      return RETRYABLE_STATUSES.has(outcome.status) ? 'next_carrier' : 'final'
  }
}
