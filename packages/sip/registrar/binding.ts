import type { SipDestination } from '#sip/transaction/transaction_transport'
import NameAddress from '#sip/message/name_address'
import SipUri from '#sip/message/sip_uri'
import { uriDestination } from '#sip/ua/uri_destination'

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
  /**
   * The REGISTER's Path values in order (RFC 3327): the proxies between us and the client, which
   * every request to it goes through as a pre-loaded Route set. Absent on direct registrations
   * (and on bindings stored before Path was kept).
   */
  path?: string[]
  /**
   * The client's own flow at a trusted front (`<proto>:<ip>:<port>` from X-FluffyCall-Source):
   * which transport it really uses, and the key the front names when that connection closes.
   */
  flow?: string
}

/**
 * What a binding dies with, as an index key: its flow at a front (`flow:<flow>`, the front tells
 * when it closes) or the stream connection it registered over (`connection:<id>`); none for UDP.
 */
export function reachKeyOf(binding: Binding): string | undefined {
  if (binding.flow !== undefined) return `flow:${binding.flow}`
  const { connectionId } = binding.source
  return connectionId === undefined ? undefined : `connection:${connectionId}`
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
 * Where to send a request for this binding (the Request-URI stays `contactUri`). With a Path, the
 * first proxy on it (RFC 3327 5.2: the front keeps the client's connection), reusing the
 * connection the REGISTER came in on when that is the same proxy. Otherwise always the flow the
 * REGISTER came in on: a WebSocket client can be reached no other way, and a phone behind NAT
 * registers a private Contact address that only its source address and port lead to.
 */
export function destinationOf(binding: Binding): SipDestination {
  const first = binding.path?.[0]
  const hop = first === undefined ? undefined : NameAddress.parse(first).uri
  if (!(hop instanceof SipUri)) {
    return { ...binding.source }
  }
  const next = uriDestination(hop)
  const { source } = binding
  const sameHop =
    next.protocol === source.protocol && next.host === source.host && next.port === source.port
  return sameHop ? { ...source } : next
}

/** The pre-loaded Route set of a request to this binding: its Path, in order (RFC 3327 5.2). */
export function routeOf(binding: Binding): string[] {
  return binding.path ? [...binding.path] : []
}

/**
 * The transport the client itself uses: its flow's at a trusted front, else the Contact's
 * `;transport=` when it registered through proxies (a WebSocket client behind a front), else the
 * one its REGISTER arrived on.
 */
export function clientTransportOf(binding: Binding): SipDestination['protocol'] {
  const flowProtocol = binding.flow?.split(':')[0]
  if (flowProtocol && isProtocol(flowProtocol)) return flowProtocol
  if (binding.path?.length) {
    const transport = NameAddress.tryParse(`<${binding.contactUri}>`)?.uri
    const asked = transport instanceof SipUri ? transport.transport : undefined
    if (asked && isProtocol(asked)) return asked
  }
  return binding.source.protocol
}

function isProtocol(value: string): value is SipDestination['protocol'] {
  return ['udp', 'tcp', 'tls', 'ws', 'wss'].includes(value)
}
