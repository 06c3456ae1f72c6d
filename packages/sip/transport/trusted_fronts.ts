import { isIP } from 'node:net'
import type SipRequest from '#sip/message/sip_request'
import type { SipDestination, SipTransportProtocol } from '#sip/transaction/transaction_transport'
import SourceList from '#sip/transport/source_list'

/** The header a trusted SIP front (Kamailio) adds to every request it forwards: the real source. */
export const SOURCE_HEADER = 'X-FluffyCall-Source'

const PROTOCOLS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls', 'ws', 'wss'])
/** `<proto>:<ip>:<port>`, an IPv6 address in square brackets. */
const SOURCE_VALUE = /^([a-z]+):(\[[0-9a-f:.]+\]|[0-9.]+):(\d{1,5})$/i

/**
 * Where a request really came from when a trusted front forwarded it: the client's own transport,
 * address and port, and the flow string that names the client's connection at the front.
 */
export interface ClientAddress {
  protocol: SipTransportProtocol
  /** IPv6 without brackets, like SipDestination.host. */
  host: string
  port: number
  /** `<proto>:<ip>:<port>` exactly as the front wrote it (the key of its connection). */
  flow: string
}

/** The header's value as a client address; undefined for anything malformed. */
export function parseClientSource(value: string): ClientAddress | undefined {
  const match = SOURCE_VALUE.exec(value.trim())
  if (!match) return undefined
  const protocol = match[1].toLowerCase()
  const bracketed = match[2].startsWith('[')
  const host = bracketed ? match[2].slice(1, -1) : match[2]
  const port = Number(match[3])
  const family = isIP(host)
  if (!PROTOCOLS.has(protocol) || family === 0 || (family === 6) !== bracketed) return undefined
  if (port < 1 || port > 65535) return undefined
  return {
    protocol: protocol as SipTransportProtocol,
    host,
    port,
    flow: `${protocol}:${bracketed ? `[${host}]` : host}:${port}`,
  }
}

/**
 * The SIP fronts (SIP_TRUSTED_FRONTS: addresses or CIDRs) whose X-FluffyCall-Source header is
 * believed, the SIP counterpart of HTTP's trusted proxies. An empty list believes nobody.
 */
export default class TrustedFronts {
  readonly #fronts: SourceList

  constructor(entries: readonly string[]) {
    this.#fronts = new SourceList([...entries])
  }

  get size(): number {
    return this.#fronts.size
  }

  /** Whether packets from `address` come from a trusted front. */
  has(address: string): boolean {
    return this.#fronts.has(address)
  }

  /**
   * Takes the source header off `request` (nobody above sees it or forwards it) and returns the
   * client it names when `packetAddress` is a trusted front and the header is one well-formed
   * value; undefined otherwise: the request is then from the packet's own source.
   */
  takeClient(request: SipRequest, packetAddress: string): ClientAddress | undefined {
    const values = request.headers.getAll(SOURCE_HEADER)
    if (values.length === 0) return undefined
    request.headers.remove(SOURCE_HEADER)
    if (values.length !== 1 || !this.has(packetAddress)) return undefined
    return parseClientSource(values[0])
  }
}

/**
 * The source to judge a request by (lockouts, flood limits, audit, encryption): the client behind
 * a trusted front when there is one, else where the request came from (`source`).
 */
export function clientOf(request: SipRequest, source: SipDestination): SipDestination {
  const client = request.client
  return client ? { protocol: client.protocol, host: client.host, port: client.port } : source
}
