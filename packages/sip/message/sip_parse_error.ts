import { type ParseFailure, statusForFailure } from '#sip/message/parse_failure'
import type NameAddress from '#sip/message/name_address'

/**
 * The raw header values of a request that failed to parse, enough to answer it per RFC 3261 8.2.6.
 * Each value was read from its own line and is known not to contain CR or LF; the Via and CSeq
 * values parsed successfully.
 */
export interface ParseErrorEnvelope {
  method: string
  via: string[]
  from: string
  to: string
  callId: string
  cseq: string
  /** The To header parsed, when it could be, so that the answer can add a tag. */
  toAddress: NameAddress | undefined
}

/**
 * The only error the SIP parser and framer throw. `detail` is written by us and never echoes the
 * peer's bytes, so it is safe to log and to put in a reason phrase.
 */
export default class SipParseError extends Error {
  readonly reason: ParseFailure
  readonly detail: string
  readonly envelope: ParseErrorEnvelope | undefined

  constructor(
    reason: ParseFailure,
    detail: string,
    options: { envelope?: ParseErrorEnvelope; cause?: unknown } = {}
  ) {
    super(`SIP parse error (${reason}): ${detail}`, { cause: options.cause })
    this.name = 'SipParseError'
    this.reason = reason
    this.detail = detail
    this.envelope = options.envelope
  }

  /** The status to answer with, when `envelope` allows an answer at all. */
  get status(): number {
    return statusForFailure(this.reason)
  }

  withEnvelope(envelope: ParseErrorEnvelope | undefined): SipParseError {
    if (!envelope || this.envelope) {
      return this
    }
    return new SipParseError(this.reason, this.detail, { envelope, cause: this.cause })
  }
}
