import SipParseError from '#sip/message/sip_parse_error'
import { ParseFailure } from '#sip/message/parse_failure'

const ABSOLUTE_URI = /^([A-Za-z][A-Za-z0-9+\-.]*):([^\s<>"]+)$/

/**
 * A URI of a scheme other than sip/sips (tel:, urn:, mailto: ...), kept as written. It may appear
 * in From, To and Contact; layers that need a SIP URI check with `instanceof SipUri`.
 */
export default class AbsoluteUri {
  constructor(
    readonly scheme: string,
    readonly text: string
  ) {}

  static parse(text: string): AbsoluteUri {
    const match = ABSOLUTE_URI.exec(text)
    if (!match) {
      throw new SipParseError(ParseFailure.BadUri, 'invalid absolute URI')
    }
    return new AbsoluteUri(match[1].toLowerCase(), text)
  }

  toString(): string {
    return this.text
  }
}
