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
  userId: number
  companyId: number
  /** The SIP device whose credentials registered it; absent for the web phone. */
  deviceId?: number
}

/**
 * Where to send a request for this binding (the Request-URI stays `contactUri`). Always the flow
 * the REGISTER came in on: a WebSocket client can be reached no other way, and a phone behind NAT
 * registers a private Contact address that only its source address and port lead to.
 */
export function destinationOf(binding: Binding): SipDestination {
  return { ...binding.source }
}
