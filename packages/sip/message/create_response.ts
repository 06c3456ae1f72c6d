import SipHeaders from '#sip/message/sip_headers'
import SipResponse from '#sip/message/sip_response'
import type SipRequest from '#sip/message/sip_request'
import type SipParseError from '#sip/message/sip_parse_error'
import { randomToken } from '#sip/message/random_token'
import { reasonPhraseFor } from '#sip/message/reason_phrases'

export interface ResponseOptions {
  reason?: string
  /** To tag for a response that creates a dialog; generated when the request's To has none. */
  toTag?: string
  headers?: Iterable<[string, string]>
  body?: Buffer
  contentType?: string
}

/**
 * Builds a response to a request per RFC 3261 8.2.6: Via (all, in order), From, Call-ID and
 * CSeq copied; To copied and tagged unless it is a 100 or already has a tag.
 */
export function createResponse(
  request: SipRequest,
  status: number,
  options: ResponseOptions = {}
): SipResponse {
  const headers = new SipHeaders()
  for (const via of request.headers.getAll('via')) {
    headers.append('Via', via)
  }
  headers.append('From', request.headers.get('from') ?? '')
  let to = request.to
  if (status > 100 && to.tag === undefined) {
    to = to.withTag(options.toTag ?? randomToken())
  }
  headers.append('To', to === request.to ? (request.headers.get('to') ?? '') : to.toString())
  headers.append('Call-ID', request.callId)
  headers.append('CSeq', request.cseq.toString())
  if (status === 100 && request.headers.has('timestamp')) {
    // RFC 3261 8.2.6.1: a 100 echoes Timestamp so the client can measure the round trip.
    headers.append('Timestamp', request.headers.get('timestamp') ?? '')
  }
  for (const [name, value] of options.headers ?? []) {
    headers.append(name, value)
  }
  const response = new SipResponse(status, options.reason, headers, options.body)
  if (options.body && options.contentType) {
    headers.set('Content-Type', options.contentType)
  }
  return response
}

/**
 * The 400 (or 413/416/505/513) for a request the parser rejected, or undefined when the request
 * could not be read far enough to answer (then it is dropped, RFC 3261 16.3 and 18.1.2 in spirit).
 */
export function createParseErrorResponse(
  error: SipParseError,
  toTag: string = randomToken()
): SipResponse | undefined {
  const envelope = error.envelope
  if (!envelope) {
    return undefined
  }
  const headers = new SipHeaders()
  for (const via of envelope.via) {
    headers.append('Via', via)
  }
  headers.append('From', envelope.from)
  const to = envelope.toAddress
  headers.append('To', to && to.tag === undefined ? to.withTag(toTag).toString() : envelope.to)
  headers.append('Call-ID', envelope.callId)
  headers.append('CSeq', envelope.cseq)
  const reason = `${reasonPhraseFor(error.status)} (${error.detail})`
  return new SipResponse(error.status, reason, headers)
}
