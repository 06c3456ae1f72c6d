import SipParseError from '#sip/message/sip_parse_error'
import type { ParseFailure } from '#sip/message/parse_failure'

/**
 * The characters one single-character pattern accepts, for scanning a header value character by
 * character: ASCII answered from a table made from the pattern once, anything else by the pattern
 * itself, so the answers are the pattern's own (a regular expression per character was a tenth of
 * a message's parse).
 */
export class CharClass {
  readonly #ascii = new Uint8Array(128)

  constructor(readonly pattern: RegExp) {
    for (let code = 0; code < 128; code++) {
      this.#ascii[code] = pattern.test(String.fromCharCode(code)) ? 1 : 0
    }
  }

  /** Whether the UTF-16 code unit `code` is in the class. */
  includes(code: number): boolean {
    return code < 128 ? this.#ascii[code] === 1 : this.pattern.test(String.fromCharCode(code))
  }
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
const TOKEN_CHAR = new CharClass(/[A-Za-z0-9\-.!%*_+`'~]/)
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/

/** A generic-param value: token, host (IPv6 references included) or quoted-string. */
const PARAM_VALUE_CHAR = new CharClass(/[A-Za-z0-9\-.!%*_+`'~:\[\]]/)

export function isToken(text: string): boolean {
  return TOKEN.test(text)
}

/** Removes the quotes and quoted-pair escapes of a quoted-string written as `"..."`. */
export function unquote(text: string): string {
  if (text.length < 2 || text[0] !== '"' || text[text.length - 1] !== '"') {
    return text
  }
  return text.slice(1, -1).replace(/\\(.)/g, '$1')
}

/**
 * Writes a quoted-string. Quotes, backslashes and control characters go as quoted-pairs (RFC 3261
 * 25.1); CR and LF cannot be escaped and become spaces, so a value never breaks the header line.
 */
export function quote(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this escapes (RFC 3261 quoted-pair)
  return `"${text.replace(/[\r\n]/g, ' ').replace(/(["\\\x00-\x08\x0b\x0c\x0e-\x1f\x7f])/g, '\\$1')}"`
}

/**
 * A cursor over one header value. Every failure becomes a SipParseError with the reason the
 * scanner was created with, so grammar code never has to wrap its own errors.
 */
export default class HeaderScanner {
  position = 0

  constructor(
    readonly text: string,
    readonly failure: ParseFailure,
    readonly what: string
  ) {}

  fail(detail: string): never {
    throw new SipParseError(this.failure, `${this.what}: ${detail}`)
  }

  atEnd(): boolean {
    return this.position >= this.text.length
  }

  peek(): string | undefined {
    return this.text[this.position]
  }

  skipWhitespace(): boolean {
    const start = this.position
    while (this.peek() === ' ' || this.peek() === '\t') {
      this.position++
    }
    return this.position > start
  }

  accept(char: string): boolean {
    if (this.peek() === char) {
      this.position++
      return true
    }
    return false
  }

  expect(char: string, detail: string): void {
    if (!this.accept(char)) {
      this.fail(detail)
    }
  }

  readWhile(chars: CharClass): string {
    const start = this.position
    const text = this.text
    let position = start
    while (position < text.length && chars.includes(text.charCodeAt(position))) {
      position++
    }
    this.position = position
    return text.slice(start, position)
  }

  readToken(detail: string): string {
    const token = this.readWhile(TOKEN_CHAR)
    if (token.length === 0) {
      this.fail(detail)
    }
    return token
  }

  /** Reads a quoted-string and returns it with its quotes, as written. */
  readQuotedString(): string {
    const start = this.position
    this.expect('"', 'expected a quoted string')
    while (!this.atEnd()) {
      const char = this.text[this.position++]
      if (char === '\\') {
        if (this.atEnd()) {
          break
        }
        this.position++
      } else if (char === '"') {
        return this.text.slice(start, this.position)
      }
    }
    return this.fail('unterminated quoted string')
  }

  /**
   * Reads `*(SEMI generic-param)`. Names are case-insensitive and kept in lower case; values are
   * kept as written (quoted strings keep their quotes) so that they serialize back unchanged.
   */
  readParameters(): Map<string, string | null> {
    const params = new Map<string, string | null>()
    for (;;) {
      this.skipWhitespace()
      if (!this.accept(';')) {
        return params
      }
      this.skipWhitespace()
      const name = this.readToken('expected a parameter name').toLowerCase()
      this.skipWhitespace()
      let value: string | null = null
      if (this.accept('=')) {
        this.skipWhitespace()
        value = this.peek() === '"' ? this.readQuotedString() : this.readWhile(PARAM_VALUE_CHAR)
        if (value.length === 0) {
          this.fail('empty parameter value')
        }
      }
      params.set(name, value)
    }
  }
}

export function formatParameters(params: ReadonlyMap<string, string | null>): string {
  let text = ''
  for (const [name, value] of params) {
    text += value === null ? `;${name}` : `;${name}=${value}`
  }
  return text
}
