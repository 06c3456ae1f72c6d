import { isIPv4, isIPv6 } from 'node:net'
import SipParseError from '#sip/message/sip_parse_error'
import { ParseFailure } from '#sip/message/parse_failure'

export type SipUriScheme = 'sip' | 'sips'

/** user = 1*( unreserved / escaped / user-unreserved ), RFC 3261 25.1 */
const USER = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/
const PASSWORD = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*$/
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9_\-.]*[A-Za-z0-9.])?$/
const PARAM_CHARS = /^(?:[A-Za-z0-9\-_.!~*'()\[\]/:&+$]|%[0-9A-Fa-f]{2})+$/
const HEADER_CHARS = /^(?:[A-Za-z0-9\-_.!~*'()\[\]/?:+$]|%[0-9A-Fa-f]{2})*$/
/**
 * The parameters or headers of a URI without any: one map shared by all (they are read-only), not
 * two new maps per URI parsed (issue 17: several URIs per message received).
 */
const NONE: ReadonlyMap<string, never> = new Map<string, never>()

export interface SipUriParts {
  scheme?: SipUriScheme
  user?: string
  password?: string
  host: string
  port?: number
  params?: ReadonlyMap<string, string | null>
  headers?: ReadonlyMap<string, string>
}

function fail(detail: string): never {
  throw new SipParseError(ParseFailure.BadUri, detail)
}

/** Validates `host` (IPv6 without brackets) and throws BadUri when it is not a host. */
export function assertHost(host: string, failure: ParseFailure = ParseFailure.BadUri): void {
  // The cheap test first: every IPv4 address is also a HOSTNAME, no IPv6 one is
  if (!(HOSTNAME.test(host) || isIPv4(host) || isIPv6(host))) {
    throw new SipParseError(failure, 'invalid host')
  }
}

/** Parses "1*DIGIT" as a port number, or throws with the given reason. */
export function parsePort(text: string, failure: ParseFailure = ParseFailure.BadUri): number {
  if (!/^\d{1,5}$/.test(text)) {
    throw new SipParseError(failure, 'invalid port')
  }
  const port = Number(text)
  if (port > 65535) {
    throw new SipParseError(failure, 'port out of range')
  }
  return port
}

/** Formats a host for a URI or a Via: IPv6 references go in brackets. */
export function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

/**
 * A SIP or SIPS URI (RFC 3261 19.1). `host` holds IPv6 addresses without their brackets, ready
 * for a socket; parameter names are lower case, values as written.
 */
export default class SipUri {
  readonly scheme: SipUriScheme
  readonly user: string | undefined
  readonly password: string | undefined
  readonly host: string
  readonly port: number | undefined
  readonly params: ReadonlyMap<string, string | null>
  readonly headers: ReadonlyMap<string, string>

  constructor(parts: SipUriParts) {
    this.scheme = parts.scheme ?? 'sip'
    this.user = parts.user
    this.password = parts.password
    this.host = parts.host
    this.port = parts.port
    this.params = parts.params ?? NONE
    this.headers = parts.headers ?? NONE
  }

  static parse(text: string): SipUri {
    const colon = text.indexOf(':')
    if (colon < 0) {
      fail('missing scheme')
    }
    const scheme = text.slice(0, colon).toLowerCase()
    if (scheme !== 'sip' && scheme !== 'sips') {
      if (/^[A-Za-z][A-Za-z0-9+\-.]*$/.test(scheme)) {
        throw new SipParseError(ParseFailure.UnsupportedUriScheme, 'URI scheme is not sip or sips')
      }
      fail('invalid scheme')
    }
    let rest = text.slice(colon + 1)

    let user: string | undefined
    let password: string | undefined
    const at = rest.indexOf('@')
    if (at >= 0) {
      const userinfo = rest.slice(0, at)
      rest = rest.slice(at + 1)
      const passwordColon = userinfo.indexOf(':')
      user = passwordColon >= 0 ? userinfo.slice(0, passwordColon) : userinfo
      password = passwordColon >= 0 ? userinfo.slice(passwordColon + 1) : undefined
      if (!USER.test(user)) {
        fail('invalid user part')
      }
      if (password !== undefined && !PASSWORD.test(password)) {
        fail('invalid password part')
      }
    }

    let headers: Map<string, string> | undefined
    const question = rest.indexOf('?')
    if (question >= 0) {
      headers = new Map()
      for (const pair of rest.slice(question + 1).split('&')) {
        const equals = pair.indexOf('=')
        const name = equals >= 0 ? pair.slice(0, equals) : pair
        const value = equals >= 0 ? pair.slice(equals + 1) : ''
        if (name.length === 0 || !HEADER_CHARS.test(name) || !HEADER_CHARS.test(value)) {
          fail('invalid URI header')
        }
        headers.set(name, value)
      }
      rest = rest.slice(0, question)
    }

    let params: Map<string, string | null> | undefined
    const semicolon = rest.indexOf(';')
    const hostport = semicolon >= 0 ? rest.slice(0, semicolon) : rest
    const paramParts = semicolon >= 0 ? rest.slice(semicolon + 1).split(';') : []
    for (const part of paramParts) {
      params ??= new Map()
      const equals = part.indexOf('=')
      const name = equals >= 0 ? part.slice(0, equals) : part
      const value = equals >= 0 ? part.slice(equals + 1) : null
      if (!PARAM_CHARS.test(name) || (value !== null && !PARAM_CHARS.test(value))) {
        fail('invalid URI parameter')
      }
      params.set(name.toLowerCase(), value)
    }

    let host: string
    let portText: string | undefined
    if (hostport.startsWith('[')) {
      const close = hostport.indexOf(']')
      if (close < 0) {
        fail('unterminated IPv6 reference')
      }
      host = hostport.slice(1, close)
      if (!isIPv6(host)) {
        fail('invalid IPv6 reference')
      }
      const after = hostport.slice(close + 1)
      if (after.length > 0) {
        if (!after.startsWith(':')) {
          fail('unexpected characters after host')
        }
        portText = after.slice(1)
      }
    } else {
      const portColon = hostport.indexOf(':')
      host = portColon >= 0 ? hostport.slice(0, portColon) : hostport
      portText = portColon >= 0 ? hostport.slice(portColon + 1) : undefined
      if (host.includes(':') || !(HOSTNAME.test(host) || isIPv4(host))) {
        fail('invalid host')
      }
    }
    const port = portText === undefined ? undefined : parsePort(portText)

    return new SipUri({
      scheme,
      user,
      password,
      host,
      port,
      params,
      headers,
    })
  }

  param(name: string): string | null | undefined {
    return this.params.get(name.toLowerCase())
  }

  /**
   * The user part with its escapes decoded (RFC 3261 19.1.2: "%2B49..." and "+49..." are the same
   * user), '' without a user part. Null when the escapes are not UTF-8 (the grammar allows any
   * octet, e.g. "%FF"): a peer's URI the application cannot read, which it answers with 400.
   */
  userText(): string | null {
    if (this.user === undefined) return ''
    try {
      return decodeURIComponent(this.user)
    } catch {
      return null
    }
  }

  /** The transport asked for with ";transport=", in lower case. */
  get transport(): string | undefined {
    return this.param('transport')?.toLowerCase()
  }

  with(parts: Partial<SipUriParts>): SipUri {
    return new SipUri({
      scheme: this.scheme,
      user: this.user,
      password: this.password,
      host: this.host,
      port: this.port,
      params: this.params,
      headers: this.headers,
      ...parts,
    })
  }

  toString(): string {
    let text = `${this.scheme}:`
    if (this.user !== undefined) {
      text += this.user
      if (this.password !== undefined) {
        text += `:${this.password}`
      }
      text += '@'
    }
    text += formatHost(this.host)
    if (this.port !== undefined) {
      text += `:${this.port}`
    }
    for (const [name, value] of this.params) {
      text += value === null ? `;${name}` : `;${name}=${value}`
    }
    if (this.headers.size > 0) {
      text += `?${[...this.headers].map(([name, value]) => `${name}=${value}`).join('&')}`
    }
    return text
  }
}
