import SipMessage, { SIP_VERSION } from '#sip/message/sip_message'
import type SipHeaders from '#sip/message/sip_headers'
import { reasonPhraseFor } from '#sip/message/reason_phrases'

/** A SIP response: status code, reason phrase, headers, body (RFC 3261 7.2). */
export default class SipResponse extends SipMessage {
  readonly isRequest = false
  status: number
  reason: string

  constructor(status: number, reason?: string, headers?: SipHeaders, body?: Buffer) {
    super(headers, body)
    this.status = status
    this.reason = reason ?? reasonPhraseFor(status)
  }

  get isProvisional(): boolean {
    return this.status < 200
  }

  get isSuccess(): boolean {
    return this.status >= 200 && this.status < 300
  }

  get isFinal(): boolean {
    return this.status >= 200
  }

  startLine(): string {
    return `${SIP_VERSION} ${this.status} ${this.reason}`
  }

  clone(): SipResponse {
    return new SipResponse(this.status, this.reason, this.headers.clone(), Buffer.from(this.body))
  }
}
