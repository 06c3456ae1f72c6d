import type SipMessage from '#sip/message/sip_message'

/** An offer or answer as it travels in a message body; SDP in practice. */
export interface SessionDescription {
  body: Buffer
  contentType: string
}

/** The session description a message carries, or undefined for an empty body. */
export function descriptionOf(message: SipMessage): SessionDescription | undefined {
  if (message.body.length === 0) {
    return undefined
  }
  return { body: message.body, contentType: message.contentType ?? 'application/sdp' }
}
