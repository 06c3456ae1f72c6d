import HeaderScanner, { CharClass, quote, unquote } from '#sip/message/header_scanner'
import { ParseFailure } from '#sip/message/parse_failure'

export interface AuthParameter {
  name: string
  value: string
  quoted: boolean
}

/** Unquoted auth-param values: tokens, and in practice also base64 nonces with "/" and "=". */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/
const BARE_VALUE = new CharClass(/[A-Za-z0-9\-.!%*_+`'~/=:]/)

/**
 * WWW-Authenticate, Proxy-Authenticate, Authorization and Proxy-Authorization values:
 * `scheme param=value, param="value"` (RFC 3261 25.1, RFC 7235). Names are lower case;
 * values are unquoted, and whether they were quoted is kept so the header round-trips.
 */
export default class AuthHeader {
  constructor(
    readonly scheme: string,
    readonly parameters: readonly AuthParameter[],
    /** The single opaque value of schemes like Basic (RFC 7235 token68), instead of parameters. */
    readonly token68?: string
  ) {}

  static parse(text: string): AuthHeader {
    const scanner = new HeaderScanner(text, ParseFailure.BadAuthHeader, 'authentication header')
    scanner.skipWhitespace()
    const scheme = scanner.readToken('expected a scheme')
    const parameters: AuthParameter[] = []
    if (!scanner.skipWhitespace() && !scanner.atEnd()) {
      scanner.fail('expected whitespace after the scheme')
    }
    const rest = text.slice(scanner.position).trim()
    if (TOKEN68.test(rest)) {
      return new AuthHeader(scheme, [], rest)
    }
    while (!scanner.atEnd()) {
      const name = scanner.readToken('expected a parameter name').toLowerCase()
      scanner.skipWhitespace()
      scanner.expect('=', 'expected "="')
      scanner.skipWhitespace()
      const quoted = scanner.peek() === '"'
      const value = quoted ? unquote(scanner.readQuotedString()) : scanner.readWhile(BARE_VALUE)
      if (!quoted && value.length === 0) {
        scanner.fail('empty parameter value')
      }
      parameters.push({ name, value, quoted })
      scanner.skipWhitespace()
      if (!scanner.accept(',')) {
        break
      }
      scanner.skipWhitespace()
    }
    if (!scanner.atEnd()) {
      scanner.fail('unexpected characters')
    }
    return new AuthHeader(scheme, parameters)
  }

  get(name: string): string | undefined {
    const lower = name.toLowerCase()
    return this.parameters.find((parameter) => parameter.name === lower)?.value
  }

  toString(): string {
    if (this.token68 !== undefined) {
      return `${this.scheme} ${this.token68}`
    }
    const params = this.parameters.map(
      ({ name, value, quoted }) => `${name}=${quoted ? quote(value) : value}`
    )
    return params.length > 0 ? `${this.scheme} ${params.join(', ')}` : this.scheme
  }
}
