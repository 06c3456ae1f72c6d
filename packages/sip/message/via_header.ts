import { isIPv6 } from 'node:net'
import HeaderScanner, { CharClass, formatParameters } from '#sip/message/header_scanner'
import { assertHost, formatHost, parsePort } from '#sip/message/sip_uri'
import { ParseFailure } from '#sip/message/parse_failure'

const IPV6_REFERENCE_CHAR = new CharClass(/[0-9A-Fa-f:.]/)
const HOST_CHAR = new CharClass(/[A-Za-z0-9\-_.]/)
const DIGIT = new CharClass(/[0-9]/)

/** Branch IDs of RFC 3261 transactions start with this, which enables the 17.2.3 matching. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK'

/** Default ports per transport (RFC 3261 19.1.2, RFC 7118). */
export function defaultPort(transport: string): number {
  switch (transport.toUpperCase()) {
    case 'TLS':
    case 'WSS':
      return 5061
    case 'WS':
      return 80
    default:
      return 5060
  }
}

export interface ViaParts {
  transport: string
  host: string
  port?: number
  params?: ReadonlyMap<string, string | null>
}

/** One Via header value: `SIP/2.0/UDP host:port;branch=...` (RFC 3261 20.42, RFC 3581). */
export default class ViaHeader {
  /** Upper case: UDP, TCP, TLS, SCTP, WS, WSS. */
  readonly transport: string
  /** IPv6 addresses without brackets. */
  readonly host: string
  readonly port: number | undefined
  readonly params: ReadonlyMap<string, string | null>

  constructor(parts: ViaParts) {
    this.transport = parts.transport.toUpperCase()
    this.host = parts.host
    this.port = parts.port
    this.params = parts.params ?? new Map()
  }

  static parse(text: string): ViaHeader {
    const scanner = new HeaderScanner(text, ParseFailure.BadVia, 'Via')
    scanner.skipWhitespace()
    const protocol = scanner.readToken('expected protocol name')
    scanner.skipWhitespace()
    scanner.expect('/', 'expected "/" after protocol name')
    scanner.skipWhitespace()
    const version = scanner.readToken('expected protocol version')
    scanner.skipWhitespace()
    scanner.expect('/', 'expected "/" after protocol version')
    scanner.skipWhitespace()
    const transport = scanner.readToken('expected transport')
    if (protocol.toUpperCase() !== 'SIP' || version !== '2.0') {
      scanner.fail('unsupported protocol')
    }
    if (!scanner.skipWhitespace()) {
      scanner.fail('expected whitespace before sent-by')
    }

    let host: string
    if (scanner.accept('[')) {
      host = scanner.readWhile(IPV6_REFERENCE_CHAR)
      scanner.expect(']', 'unterminated IPv6 reference')
      if (!isIPv6(host)) {
        scanner.fail('invalid IPv6 reference')
      }
    } else {
      host = scanner.readWhile(HOST_CHAR)
      assertHost(host, ParseFailure.BadVia)
    }
    scanner.skipWhitespace()
    let port: number | undefined
    if (scanner.accept(':')) {
      scanner.skipWhitespace()
      port = parsePort(scanner.readWhile(DIGIT), ParseFailure.BadVia)
    }
    const params = scanner.readParameters()
    scanner.skipWhitespace()
    if (!scanner.atEnd()) {
      scanner.fail('unexpected characters')
    }
    const via = new ViaHeader({ transport, host, port, params })
    const rport = params.get('rport')
    if (rport !== undefined && rport !== null) {
      parsePort(rport, ParseFailure.BadVia)
    }
    return via
  }

  get branch(): string | undefined {
    return this.params.get('branch') ?? undefined
  }

  get received(): string | undefined {
    return this.params.get('received') ?? undefined
  }

  /** `true` when the client asked for rport (RFC 3581) and it is not filled in yet. */
  get rport(): number | true | undefined {
    const value = this.params.get('rport')
    if (value === undefined) {
      return undefined
    }
    return value === null ? true : Number(value)
  }

  /** The port the sender listens on, defaulted by transport. */
  get sentByPort(): number {
    return this.port ?? defaultPort(this.transport)
  }

  /** host:port as used to match server transactions (RFC 3261 17.2.3). */
  get sentBy(): string {
    return `${this.host.toLowerCase()}:${this.sentByPort}`
  }

  withParam(name: string, value: string | null): ViaHeader {
    return this.withParams([[name, value]])
  }

  /** The parameters set in order, as `withParam` one after the other would, in one copy. */
  withParams(changes: ReadonlyArray<readonly [string, string | null]>): ViaHeader {
    const params = new Map(this.params)
    for (const [name, value] of changes) params.set(name.toLowerCase(), value)
    return new ViaHeader({ transport: this.transport, host: this.host, port: this.port, params })
  }

  toString(): string {
    const port = this.port === undefined ? '' : `:${this.port}`
    const params = formatParameters(this.params)
    return `SIP/2.0/${this.transport} ${formatHost(this.host)}${port}${params}`
  }
}
