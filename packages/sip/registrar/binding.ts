import type { SipDestination } from '#sip/transaction/transaction_transport'

/**
 * One registered contact of an address-of-record (RFC 3261 10.3). Plain data, so the Redis store
 * can keep it as JSON.
 */
export interface Binding {
  /** The address-of-record, `sip:<username>@<realm>` for a device. */
  aor: string
  /** The Contact URI as registered; the key of the binding within its AOR. */
  contactUri: string
  /** The whole Contact value without `expires` (keeps +sip.instance, reg-id ... for the 200, RFC 5626). */
  contact: string
  /** Milliseconds since the epoch. */
  expiresAt: number
  registeredAt: number
  callId: string
  cseq: number
  /**
   * Where the REGISTER came from. For WebSocket and other stream clients `connectionId` names the
   * connection: their Contact host is often `*.invalid` (RFC 7118) and only that connection reaches them.
   */
  source: SipDestination
  /**
   * Whose credentials registered it, in the owner's words (SipCredential.subject); the stack
   * never reads it. A path of `/`-separated levels, most general first: the stores index every
   * level, so `listForSubject('a')` finds the bindings of `a/b` and `a/c` too.
   */
  subject: string
}

/** The levels a subject is listed under: `a/b/c` -> `a`, `a/b`, `a/b/c`. */
export function subjectLevels(subject: string): string[] {
  const parts = subject.split('/')
  return parts.map((_, index) => parts.slice(0, index + 1).join('/'))
}

/** Whether `subject` is `level` or lies under it (whole levels only: `a/b` is not under `a/` nor `a/bc`). */
export function isUnder(subject: string, level: string): boolean {
  return subject === level || subject.startsWith(`${level}/`)
}

/**
 * Where to send a request for this binding (the Request-URI stays `contactUri`). Always the flow
 * the REGISTER came in on: a WebSocket client can be reached no other way, and a phone behind NAT
 * registers a private Contact address that only its source address and port lead to.
 */
export function destinationOf(binding: Binding): SipDestination {
  return { ...binding.source }
}
