import SipMessageParser from '#sip/message/sip_message_parser'
import SipParseError from '#sip/message/sip_parse_error'
import { ParseFailure } from '#sip/message/parse_failure'

export enum FramerState {
  /** Between messages: CRLF keep-alives may arrive here. */
  AwaitingHeaders = 'awaiting-headers',
  AwaitingBody = 'awaiting-body',
  /** The stream lost its framing; the connection has to be closed. */
  Failed = 'failed',
}

export type FramerEvent =
  | { type: 'message'; bytes: Buffer }
  /** RFC 5626 4.4.1: a CRLFCRLF ping, to be answered with `reply` (a single CRLF). */
  | { type: 'keep-alive-ping'; reply: Buffer }
  /** RFC 5626 4.4.1: the single CRLF pong answering a ping we sent. */
  | { type: 'keep-alive-pong' }
  | { type: 'error'; error: SipParseError }

const CRLF = Buffer.from('\r\n')
const CRLF_CRLF = Buffer.from('\r\n\r\n')

/**
 * Cuts a TCP or TLS byte stream into messages by Content-Length (RFC 3261 18.3) and recognises
 * CRLF keep-alives between them. It only frames: each message's bytes still go through
 * SipMessageParser. After an error the stream cannot be resynchronised, so the framer stays failed.
 */
export default class SipStreamFramer {
  #state = FramerState.AwaitingHeaders
  #buffer: Buffer = Buffer.alloc(0)
  #messageLength = 0
  readonly #parser: SipMessageParser

  constructor(parser: SipMessageParser = new SipMessageParser()) {
    this.#parser = parser
  }

  get state(): FramerState {
    return this.#state
  }

  /** Bytes received and not yet part of an emitted message. */
  get buffered(): number {
    return this.#buffer.length
  }

  push(chunk: Uint8Array): FramerEvent[] {
    if (this.#state === FramerState.Failed) {
      return []
    }
    this.#buffer =
      this.#buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buffer, chunk])
    const events: FramerEvent[] = []
    try {
      while (this.#step(events)) {}
    } catch (error) {
      this.#state = FramerState.Failed
      this.#buffer = Buffer.alloc(0)
      const parseError =
        error instanceof SipParseError
          ? error
          : new SipParseError(ParseFailure.Internal, 'unexpected framer failure', { cause: error })
      events.push({ type: 'error', error: parseError })
    }
    return events
  }

  /** Consumes one event's worth of bytes; false when more bytes are needed. */
  #step(events: FramerEvent[]): boolean {
    const { maxMessageSize } = this.#parser.limits
    if (this.#state === FramerState.AwaitingHeaders) {
      if (this.#buffer.length < 2) {
        return false
      }
      if (this.#buffer.subarray(0, 4).equals(CRLF_CRLF)) {
        this.#consume(4)
        events.push({ type: 'keep-alive-ping', reply: Buffer.from(CRLF) })
        return true
      }
      if (this.#buffer.subarray(0, 2).equals(CRLF)) {
        // A lone CRLF is a pong; a ping split across two reads would be seen as two pongs,
        // which the peer tolerates as a missed pong.
        this.#consume(2)
        events.push({ type: 'keep-alive-pong' })
        return true
      }
      const headerEnd = this.#buffer.indexOf(CRLF_CRLF)
      if (headerEnd < 0) {
        if (this.#buffer.length > maxMessageSize) {
          throw new SipParseError(ParseFailure.MessageTooLarge, 'header section is too large')
        }
        return false
      }
      const headerLength = headerEnd + CRLF_CRLF.length
      const contentLength = this.#parser.contentLength(this.#buffer.subarray(0, headerEnd))
      if (headerLength + contentLength > maxMessageSize) {
        throw new SipParseError(ParseFailure.MessageTooLarge, 'message exceeds the size limit')
      }
      this.#messageLength = headerLength + contentLength
      this.#state = FramerState.AwaitingBody
      return true
    }
    if (this.#buffer.length < this.#messageLength) {
      return false
    }
    const bytes = Buffer.from(this.#buffer.subarray(0, this.#messageLength))
    events.push({ type: 'message', bytes })
    this.#consume(this.#messageLength)
    this.#state = FramerState.AwaitingHeaders
    return true
  }

  #consume(length: number): void {
    this.#buffer = this.#buffer.subarray(length)
  }
}
