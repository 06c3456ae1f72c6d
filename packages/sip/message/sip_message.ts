import SipHeaders from '#sip/message/sip_headers'
import SipParseError from '#sip/message/sip_parse_error'
import ViaHeader from '#sip/message/via_header'
import NameAddress from '#sip/message/name_address'
import CSeqHeader from '#sip/message/cseq_header'
import AuthHeader from '#sip/message/auth_header'
import { ParseFailure } from '#sip/message/parse_failure'

export const SIP_VERSION = 'SIP/2.0'

function single(values: string[], name: string): string {
  if (values.length === 0) {
    throw new SipParseError(ParseFailure.MissingHeader, `missing ${name}`)
  }
  if (values.length > 1) {
    throw new SipParseError(ParseFailure.DuplicateHeader, `more than one ${name}`)
  }
  return values[0]
}

function optionalNumber(values: string[], name: string, max: number): number | undefined {
  if (values.length === 0) {
    return undefined
  }
  const text = single(values, name).trim()
  if (!/^\d{1,10}$/.test(text) || Number(text) > max) {
    throw new SipParseError(ParseFailure.BadNumber, `invalid ${name}`)
  }
  return Number(text)
}

/**
 * What requests and responses share: headers, body and typed access to the headers the stack
 * works with. Typed accessors throw SipParseError for a missing or malformed header; on a
 * message from SipMessageParser they cannot, because the parser has already read them all.
 */
export default abstract class SipMessage {
  readonly headers: SipHeaders
  body: Buffer

  constructor(headers: SipHeaders = new SipHeaders(), body: Buffer = Buffer.alloc(0)) {
    this.headers = headers
    this.body = body
  }

  abstract readonly isRequest: boolean
  abstract startLine(): string

  get via(): readonly ViaHeader[] {
    return this.headers.parsed('via', (values) => Object.freeze(values.map(ViaHeader.parse)))
  }

  get topVia(): ViaHeader {
    const top = this.via[0]
    if (!top) {
      throw new SipParseError(ParseFailure.MissingHeader, 'missing Via')
    }
    return top
  }

  get from(): NameAddress {
    return this.headers.parsed('from', (values) => NameAddress.parse(single(values, 'From')))
  }

  get to(): NameAddress {
    return this.headers.parsed('to', (values) => NameAddress.parse(single(values, 'To')))
  }

  get callId(): string {
    return this.headers.parsed('call-id', (values) => {
      const callId = single(values, 'Call-ID')
      if (!/^[\x21-\x7e]+$/.test(callId)) {
        throw new SipParseError(ParseFailure.BadCallId, 'invalid Call-ID')
      }
      return callId
    })
  }

  get cseq(): CSeqHeader {
    return this.headers.parsed('cseq', (values) => CSeqHeader.parse(single(values, 'CSeq')))
  }

  /** Contact addresses; empty for none and for the REGISTER wildcard (see `isWildcardContact`). */
  get contacts(): readonly NameAddress[] {
    return this.headers.parsed('contact', (values) => {
      if (values.length === 1 && values[0] === '*') {
        return Object.freeze([])
      }
      return Object.freeze(values.map(NameAddress.parse))
    })
  }

  get isWildcardContact(): boolean {
    const values = this.headers.getAll('contact')
    return values.length === 1 && values[0] === '*'
  }

  get routes(): readonly NameAddress[] {
    return this.headers.parsed('route', (values) => Object.freeze(values.map(NameAddress.parse)))
  }

  get recordRoutes(): readonly NameAddress[] {
    return this.headers.parsed('record-route', (values) =>
      Object.freeze(values.map(NameAddress.parse))
    )
  }

  get maxForwards(): number | undefined {
    return this.headers.parsed('max-forwards', (values) =>
      optionalNumber(values, 'Max-Forwards', 255)
    )
  }

  get expires(): number | undefined {
    return this.headers.parsed('expires', (values) =>
      optionalNumber(values, 'Expires', 2 ** 32 - 1)
    )
  }

  get contentType(): string | undefined {
    return this.headers.get('content-type')
  }

  /** WWW-Authenticate challenges of a 401, one per header line. */
  get wwwAuthenticate(): readonly AuthHeader[] {
    return this.headers.parsed('www-authenticate', (values) =>
      Object.freeze(values.map(AuthHeader.parse))
    )
  }

  /** Proxy-Authenticate challenges of a 407, one per header line. */
  get proxyAuthenticate(): readonly AuthHeader[] {
    return this.headers.parsed('proxy-authenticate', (values) =>
      Object.freeze(values.map(AuthHeader.parse))
    )
  }

  get authorization(): readonly AuthHeader[] {
    return this.headers.parsed('authorization', (values) =>
      Object.freeze(values.map(AuthHeader.parse))
    )
  }

  get proxyAuthorization(): readonly AuthHeader[] {
    return this.headers.parsed('proxy-authorization', (values) =>
      Object.freeze(values.map(AuthHeader.parse))
    )
  }

  /**
   * Reads every typed header once, so that a malformed one fails now, inside the parser, and
   * never later in a layer that does not expect it.
   */
  validateHeaders(): void {
    if (this.via.length === 0) {
      throw new SipParseError(ParseFailure.MissingHeader, 'missing Via')
    }
    void this.from
    void this.to
    void this.callId
    void this.cseq
    void this.contacts
    void this.routes
    void this.recordRoutes
    void this.maxForwards
    void this.expires
    void this.wwwAuthenticate
    void this.proxyAuthenticate
    void this.authorization
    void this.proxyAuthorization
  }

  /** Serializes the message; Content-Length is always written from the body's real length. */
  toBuffer(): Buffer {
    const head =
      `${this.startLine()}\r\n${this.headers.lines('content-length')}` +
      `Content-Length: ${this.body.length}\r\n\r\n`
    // One buffer, the head written straight into it (was a buffer of the head, then a copy)
    const headLength = Buffer.byteLength(head, 'utf8')
    const bytes = Buffer.allocUnsafe(headLength + this.body.length)
    bytes.write(head, 0, 'utf8')
    bytes.set(this.body, headLength)
    return bytes
  }

  toString(): string {
    return this.toBuffer().toString('utf8')
  }
}
