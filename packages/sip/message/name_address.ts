import HeaderScanner, {
  CharClass,
  formatParameters,
  quote,
  unquote,
} from '#sip/message/header_scanner'
import SipParseError from '#sip/message/sip_parse_error'
import SipUri from '#sip/message/sip_uri'
import AbsoluteUri from '#sip/message/absolute_uri'
import { ParseFailure } from '#sip/message/parse_failure'

/** Characters of a display name written as tokens and spaces instead of a quoted string. */
const BARE_DISPLAY_NAME = /^[A-Za-z0-9\-.!%*_+`'~ \t]*$/
/** An addr-spec without angle brackets ends at the first ';' or white space. */
const ADDR_SPEC_CHAR = new CharClass(/[^;\s]/)

export type AddressUri = SipUri | AbsoluteUri

/**
 * The value of From, To, Contact, Route, Record-Route and similar headers: name-addr or
 * addr-spec followed by header parameters (RFC 3261 20.10 and 25.1).
 */
export default class NameAddress {
  constructor(
    readonly uri: AddressUri,
    readonly displayName?: string,
    readonly params: ReadonlyMap<string, string | null> = new Map()
  ) {}

  static parse(text: string): NameAddress {
    const scanner = new HeaderScanner(text, ParseFailure.BadNameAddress, 'name-addr')
    scanner.skipWhitespace()

    let displayName: string | undefined
    let uriText: string
    const angle = text.indexOf('<', scanner.position)
    if (scanner.peek() === '"') {
      displayName = unquote(scanner.readQuotedString())
      scanner.skipWhitespace()
      uriText = readAngleUri(scanner)
    } else if (angle >= 0) {
      const bare = text.slice(scanner.position, angle).trim()
      if (!BARE_DISPLAY_NAME.test(bare)) {
        scanner.fail('invalid display name')
      }
      displayName = bare.length > 0 ? bare : undefined
      scanner.position = angle
      uriText = readAngleUri(scanner)
    } else {
      // Without brackets, everything after the first ';' belongs to the header (RFC 3261 20).
      uriText = scanner.readWhile(ADDR_SPEC_CHAR)
      if (uriText.includes('?') || uriText.includes(',')) {
        scanner.fail('an addr-spec with "?" or "," must be in angle brackets')
      }
    }

    const uri = parseUri(uriText)
    const params = scanner.readParameters()
    scanner.skipWhitespace()
    if (!scanner.atEnd()) {
      scanner.fail('unexpected characters after the address')
    }
    return new NameAddress(uri, displayName, params)
  }

  /** For values already known to be untrusted leftovers, such as an error envelope's To. */
  static tryParse(text: string): NameAddress | undefined {
    try {
      return NameAddress.parse(text)
    } catch (error) {
      if (error instanceof SipParseError) {
        return undefined
      }
      throw error
    }
  }

  get tag(): string | undefined {
    const tag = this.params.get('tag')
    return tag === null ? undefined : tag
  }

  param(name: string): string | null | undefined {
    return this.params.get(name.toLowerCase())
  }

  withParam(name: string, value: string | null): NameAddress {
    const params = new Map(this.params)
    params.set(name.toLowerCase(), value)
    return new NameAddress(this.uri, this.displayName, params)
  }

  withTag(tag: string): NameAddress {
    return this.withParam('tag', tag)
  }

  toString(): string {
    const name = this.displayName === undefined ? '' : `${quote(this.displayName)} `
    return `${name}<${this.uri.toString()}>${formatParameters(this.params)}`
  }
}

function readAngleUri(scanner: HeaderScanner): string {
  scanner.expect('<', 'expected "<"')
  const close = scanner.text.indexOf('>', scanner.position)
  if (close < 0) {
    scanner.fail('missing ">"')
  }
  const uriText = scanner.text.slice(scanner.position, close)
  scanner.position = close + 1
  return uriText
}

/** Parses sip: and sips: URIs in full, keeps others as written; errors get the header's reason. */
function parseUri(text: string): AddressUri {
  try {
    return /^sips?:/i.test(text) ? SipUri.parse(text) : AbsoluteUri.parse(text)
  } catch (error) {
    if (error instanceof SipParseError) {
      throw new SipParseError(ParseFailure.BadNameAddress, `name-addr: ${error.detail}`)
    }
    throw error
  }
}
