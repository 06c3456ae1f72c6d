import SipParseError from '#sip/message/sip_parse_error'
import { isToken } from '#sip/message/header_scanner'
import { ParseFailure } from '#sip/message/parse_failure'

/** RFC 3261 8.1.1.5: the sequence number must be less than 2**31. */
const MAX_SEQUENCE = 2 ** 31 - 1

/** CSeq: sequence number and method (RFC 3261 20.16). */
export default class CSeqHeader {
  constructor(
    readonly sequence: number,
    readonly method: string
  ) {}

  static parse(text: string): CSeqHeader {
    const match = /^[ \t]*(\d{1,10})[ \t]+(\S+)[ \t]*$/.exec(text)
    if (!match || !isToken(match[2])) {
      throw new SipParseError(ParseFailure.BadCSeq, 'expected "number method"')
    }
    const sequence = Number(match[1])
    if (sequence > MAX_SEQUENCE) {
      throw new SipParseError(ParseFailure.BadCSeq, 'sequence number out of range')
    }
    return new CSeqHeader(sequence, match[2])
  }

  toString(): string {
    return `${this.sequence} ${this.method}`
  }
}
