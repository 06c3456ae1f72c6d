import SipMessage, { SIP_VERSION } from '#sip/message/sip_message'
import type SipHeaders from '#sip/message/sip_headers'
import type SipUri from '#sip/message/sip_uri'
import type { ClientAddress } from '#sip/transport/trusted_fronts'

/** A SIP request: method, Request-URI, headers, body (RFC 3261 7.1). */
export default class SipRequest extends SipMessage {
  readonly isRequest = true
  method: string
  uri: SipUri
  /**
   * The real source when a trusted SIP front forwarded the request (its X-FluffyCall-Source);
   * set by the transport layer only, never from the network otherwise. Not copied by `clone()`.
   */
  client?: ClientAddress

  constructor(method: string, uri: SipUri, headers?: SipHeaders, body?: Buffer) {
    super(headers, body)
    this.method = method
    this.uri = uri
  }

  startLine(): string {
    return `${this.method} ${this.uri.toString()} ${SIP_VERSION}`
  }

  clone(): SipRequest {
    return new SipRequest(this.method, this.uri, this.headers.clone(), Buffer.from(this.body))
  }
}
