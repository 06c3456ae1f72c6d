/** What the detection reads of a CDR (outbound: the callee; inbound: the caller), times in ms. */
export interface CallFact {
  id: number
  userId: number | null
  direction: 'outbound' | 'inbound' | 'echo_test'
  emergency: boolean
  /** The other party's number (E.164 with "+"), or null when withheld or invalid. */
  number: string | null
  /** Its country (ISO 3166 alpha-2), null for non-geographic or unknown numbers. */
  country: string | null
  startedAt: number
  /** Null while the call runs. */
  endedAt: number | null
  answered: boolean
  durationSeconds: number
  /** Refused by a gate or routing: an attempt that never reached a carrier. */
  refused: boolean
}

export const SIGNALS = [
  'rare_country_burst',
  'off_hours',
  'long_international',
  'short_calls',
  'sequential_numbers',
  'one_number',
  'auth_failures',
  'wangiri',
] as const
export type SignalName = (typeof SIGNALS)[number]
export type SignalLevel = 'warning' | 'critical'

/** The figures of a signal, flat plain values (the alert channel's facts). */
export type SignalFacts = Record<string, string | number | boolean | null>

/** A signal that fired: which, how badly, about what (part of its alert key) and the figures why. */
export interface SignalHit {
  signal: SignalName
  level: SignalLevel
  /** What the signal is about within the company (a country, a number, a call): part of the alert key. */
  subject: string
  userId: number | null
  facts: SignalFacts
  /** Wangiri: caller numbers whose call-back the gate refuses for some days. */
  flagNumbers?: string[]
}
