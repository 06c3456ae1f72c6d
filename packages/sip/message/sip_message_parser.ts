import SipHeaders from '#sip/message/sip_headers'
import SipParseError, { type ParseErrorEnvelope } from '#sip/message/sip_parse_error'
import SipRequest from '#sip/message/sip_request'
import SipResponse from '#sip/message/sip_response'
import SipUri from '#sip/message/sip_uri'
import ViaHeader from '#sip/message/via_header'
import CSeqHeader from '#sip/message/cseq_header'
import NameAddress from '#sip/message/name_address'
import { isToken } from '#sip/message/header_scanner'
import { ParseFailure } from '#sip/message/parse_failure'
import { DEFAULT_PARSE_LIMITS, type ParseLimits } from '#sip/message/parse_limits'

export type SipParseResult =
  { ok: true; message: SipRequest | SipResponse } | { ok: false; error: SipParseError }

const CRLF_CRLF = Buffer.from('\r\n\r\n')
const CR = 0x0d
const LF = 0x0a
/** Control characters other than HT; CR and LF are legal only as the CRLF that ends a line. */
// eslint-disable-next-line no-control-regex -- the parser must find control characters in a peer's bytes
const CONTROL_CHARACTER = /[\x00-\x08\x0a-\x1f\x7f]/

/**
 * True when a header line holds a control character outside a quoted-pair. RFC 3261 25.1 lets a
 * quoted-pair inside a quoted-string escape any octet but CR and LF (RFC 4475 3.1.1.2 sends BEL,
 * NUL and DEL that way in a display name), so only those escapes may carry one.
 */
function hasBareControlCharacter(line: string): boolean {
  if (!CONTROL_CHARACTER.test(line)) {
    return false
  }
  let quoted = false
  for (let index = 0; index < line.length; index++) {
    const char = line[index]
    if (quoted && char === '\\' && index + 1 < line.length) {
      index++
      continue
    }
    if (char === '"') {
      quoted = !quoted
    } else if (CONTROL_CHARACTER.test(char)) {
      return true
    }
  }
  return false
}
/** Whitespace (as `\s`) that may not be in a header line's name. */
const NAME_SPACE = /\s/
/** What `.` does not match: a value with one of these is a malformed line. */
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/

/**
 * A header line's name and value, as `^([^:\s]+)[ \t]*:[ \t]*(.*)$` reads them (the value's end
 * trimmed), without the match array and its copies (issue 17: once per header line received);
 * undefined for a malformed line.
 */
export function headerLineParts(line: string): { name: string; value: string } | undefined {
  const colon = line.indexOf(':')
  let nameEnd = colon
  while (nameEnd > 0 && (line[nameEnd - 1] === ' ' || line[nameEnd - 1] === '\t')) nameEnd--
  if (nameEnd <= 0) return undefined
  const name = line.slice(0, nameEnd)
  if (NAME_SPACE.test(name)) return undefined
  let valueStart = colon + 1
  while (valueStart < line.length && (line[valueStart] === ' ' || line[valueStart] === '\t'))
    valueStart++
  const value = line.slice(valueStart)
  if (LINE_TERMINATOR.test(value)) return undefined
  return { name, value: value.trimEnd() }
}
const STATUS_LINE = /^SIP\/(\d+\.\d+) (\d{3})(?: (.*))?$/
const SIP_VERSION_TEXT = /^SIP\/\d+\.\d+$/

const utf8 = new TextDecoder('utf-8', { fatal: true })

function asParseError(error: unknown): SipParseError {
  if (error instanceof SipParseError) {
    return error
  }
  return new SipParseError(ParseFailure.Internal, 'unexpected parser failure', { cause: error })
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
}

function parseContentLength(values: string[]): number | undefined {
  if (values.length === 0) {
    return undefined
  }
  const distinct = new Set(values.map((value) => value.trim()))
  if (distinct.size > 1) {
    throw new SipParseError(ParseFailure.BadContentLength, 'conflicting Content-Length values')
  }
  const [text] = distinct
  if (!/^\d{1,10}$/.test(text)) {
    throw new SipParseError(ParseFailure.BadContentLength, 'Content-Length is not a number')
  }
  return Number(text)
}

type StartLine =
  | { kind: 'request'; method: string; uriText: string; versionError?: SipParseError }
  | { kind: 'response'; status: number; reason: string }

/**
 * The one place where bytes from the network become SIP messages. Everything it throws is a
 * SipParseError; a request that could be read far enough carries an envelope to answer it with.
 */
export default class SipMessageParser {
  readonly limits: Readonly<ParseLimits>

  constructor(limits: Partial<ParseLimits> = {}) {
    this.limits = Object.freeze({ ...DEFAULT_PARSE_LIMITS, ...limits })
  }

  /** Parses one complete message (a datagram, or a message cut out by the stream framer). */
  parse(bytes: Uint8Array): SipRequest | SipResponse {
    try {
      return this.#parse(asBuffer(bytes))
    } catch (error) {
      throw asParseError(error)
    }
  }

  tryParse(bytes: Uint8Array): SipParseResult {
    try {
      return { ok: true, message: this.parse(bytes) }
    } catch (error) {
      return { ok: false, error: asParseError(error) }
    }
  }

  /**
   * The Content-Length announced by a complete header section (the bytes before CRLFCRLF), for
   * framing a stream; a missing header counts as no body.
   */
  contentLength(headerSection: Uint8Array): number {
    try {
      const lines = asBuffer(headerSection).toString('latin1').split('\r\n')
      const values: string[] = []
      for (const line of lines) {
        const match = /^(?:content-length|l)[ \t]*:(.*)$/i.exec(line)
        if (match) {
          values.push(match[1])
        }
      }
      return parseContentLength(values) ?? 0
    } catch (error) {
      throw asParseError(error)
    }
  }

  #parse(buffer: Buffer): SipRequest | SipResponse {
    const { maxMessageSize } = this.limits

    // RFC 3261 7.5: CRLFs before the start line are ignored.
    let start = 0
    while (buffer[start] === CR && buffer[start + 1] === LF) {
      start += 2
    }
    if (start >= buffer.length) {
      throw new SipParseError(ParseFailure.Empty, 'no message')
    }
    const size = buffer.length - start
    const headerEnd = buffer.indexOf(CRLF_CRLF, start)
    if (headerEnd < 0 || headerEnd - start > maxMessageSize) {
      throw size > maxMessageSize
        ? new SipParseError(ParseFailure.MessageTooLarge, 'message exceeds the size limit')
        : new SipParseError(ParseFailure.IncompleteHeaders, 'no empty line after the headers')
    }

    const lines = this.#readLines(buffer.subarray(start, headerEnd))
    const startLine = this.#parseStartLine(lines[0])
    const { headers, firstError } = this.#collectHeaders(lines)

    try {
      if (startLine.kind === 'request' && startLine.versionError) {
        throw startLine.versionError
      }
      if (firstError) {
        throw firstError
      }
      if (size > maxMessageSize) {
        throw new SipParseError(ParseFailure.MessageTooLarge, 'message exceeds the size limit')
      }
      const message =
        startLine.kind === 'request'
          ? new SipRequest(startLine.method, SipUri.parse(startLine.uriText), headers)
          : new SipResponse(startLine.status, startLine.reason, headers)
      message.validateHeaders()
      if (message instanceof SipRequest && message.cseq.method !== message.method) {
        throw new SipParseError(ParseFailure.CSeqMethodMismatch, 'CSeq method differs from method')
      }
      message.body = this.#readBody(buffer, headerEnd + CRLF_CRLF.length, headers)
      headers.remove('content-length')
      return message
    } catch (error) {
      // Read only for a failure: nothing in the try changes the headers before it can throw
      const envelope =
        startLine.kind === 'request' && startLine.method !== 'ACK'
          ? this.#envelope(startLine.method, headers)
          : undefined
      throw asParseError(error).withEnvelope(envelope)
    }
  }

  #readLines(section: Buffer): string[] {
    let text: string
    try {
      text = utf8.decode(section)
    } catch {
      throw new SipParseError(ParseFailure.BadEncoding, 'header section is not UTF-8')
    }
    const lines = text.split('\r\n')
    for (const [index, line] of lines.entries()) {
      if (line.length > this.limits.maxLineLength) {
        throw new SipParseError(ParseFailure.LineTooLong, 'header line exceeds the length limit')
      }
      if (hasBareControlCharacter(line)) {
        const reason = index === 0 ? ParseFailure.BadStartLine : ParseFailure.BadHeaderLine
        throw new SipParseError(reason, 'control character in the header section')
      }
    }
    return lines
  }

  #parseStartLine(line: string): StartLine {
    const status = STATUS_LINE.exec(line)
    if (status) {
      if (status[1] !== '2.0') {
        throw new SipParseError(ParseFailure.UnsupportedVersion, 'SIP version is not 2.0')
      }
      const code = Number(status[2])
      if (code < 100 || code > 699) {
        throw new SipParseError(ParseFailure.BadStartLine, 'status code out of range')
      }
      return { kind: 'response', status: code, reason: status[3] ?? '' }
    }

    const parts = line.split(' ')
    if (parts.length !== 3 || !isToken(parts[0]) || parts[1].length === 0) {
      throw new SipParseError(ParseFailure.BadStartLine, 'expected "Method Request-URI SIP/2.0"')
    }
    const [method, uriText, version] = parts
    if (version === 'SIP/2.0') {
      return { kind: 'request', method, uriText }
    }
    if (!SIP_VERSION_TEXT.test(version)) {
      throw new SipParseError(ParseFailure.BadStartLine, 'expected "SIP/2.0"')
    }
    // Thrown once the headers are read, so that the request can be answered with a 505.
    return {
      kind: 'request',
      method,
      uriText,
      versionError: new SipParseError(ParseFailure.UnsupportedVersion, 'SIP version is not 2.0'),
    }
  }

  /**
   * Unfolds continuation lines and reads name/value pairs. A bad line does not stop the reading,
   * so that the envelope can still be found; the first error is thrown afterwards. `lines` starts
   * with the start line, which is skipped.
   */
  #collectHeaders(lines: string[]): { headers: SipHeaders; firstError?: SipParseError } {
    const unfolded: string[] = []
    let firstError: SipParseError | undefined
    for (let index = 1; index < lines.length; index++) {
      const line = lines[index]
      if (line.startsWith(' ') || line.startsWith('\t')) {
        if (unfolded.length === 0) {
          firstError ??= new SipParseError(ParseFailure.BadHeaderLine, 'continuation line first')
          continue
        }
        unfolded[unfolded.length - 1] += ` ${line.trim()}`
      } else {
        unfolded.push(line)
      }
    }
    if (unfolded.length > this.limits.maxHeaderCount) {
      throw new SipParseError(ParseFailure.TooManyHeaders, 'too many header lines')
    }

    const headers = new SipHeaders()
    for (const line of unfolded) {
      const parts = headerLineParts(line)
      if (!parts || !isToken(parts.name)) {
        firstError ??= new SipParseError(ParseFailure.BadHeaderLine, 'malformed header line')
        continue
      }
      headers.append(parts.name, parts.value)
    }
    return { headers, firstError }
  }

  /** The raw values needed for an error response, if they are present and usable. */
  #envelope(method: string, headers: SipHeaders): ParseErrorEnvelope | undefined {
    const via = headers.getAll('via')
    const from = headers.getAll('from')
    const to = headers.getAll('to')
    const callId = headers.getAll('call-id')
    const cseq = headers.getAll('cseq')
    if (via.length === 0 || [from, to, callId, cseq].some((values) => values.length !== 1)) {
      return undefined
    }
    try {
      via.forEach(ViaHeader.parse)
      CSeqHeader.parse(cseq[0])
    } catch (error) {
      if (error instanceof SipParseError) {
        return undefined
      }
      throw error
    }
    const toAddress = NameAddress.tryParse(to[0])
    return { method, via, from: from[0], to: to[0], callId: callId[0], cseq: cseq[0], toAddress }
  }

  /**
   * The body per Content-Length. Bytes beyond it are discarded (RFC 3261 18.3); without the
   * header, as on a datagram, the body is the rest of the message.
   */
  #readBody(buffer: Buffer, bodyStart: number, headers: SipHeaders): Buffer {
    const available = buffer.length - bodyStart
    const contentLength = parseContentLength(headers.getAll('content-length'))
    if (contentLength === undefined) {
      return Buffer.from(buffer.subarray(bodyStart))
    }
    if (contentLength > available) {
      throw new SipParseError(ParseFailure.TruncatedBody, 'body shorter than Content-Length')
    }
    return Buffer.from(buffer.subarray(bodyStart, bodyStart + contentLength))
  }
}
