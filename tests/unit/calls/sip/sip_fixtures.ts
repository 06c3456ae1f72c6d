import SipMessageParser from '#sip/message/sip_message_parser'
import SipRequest from '#sip/message/sip_request'
import SipResponse from '#sip/message/sip_response'
import type SipMessage from '#sip/message/sip_message'
import type { SipDestination, TransactionTransport } from '#sip/transaction/transaction_transport'

export const SDP = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 49170 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  '',
].join('\r\n')

export function invite(parts: { branch?: string; body?: string; extra?: string[] } = {}): string {
  const body = parts.body ?? SDP
  return [
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    `Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=${parts.branch ?? 'z9hG4bK776asdhds'}`,
    'Max-Forwards: 70',
    'To: Bob <sip:bob@biloxi.example.com>',
    'From: "Alice A." <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@pc33.atlanta.example.com>',
    'Content-Type: application/sdp',
    ...(parts.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n')
}

/** The ACK a UAC sends for a non-2xx answer (To tag `uas`) to the INVITE of `invite()`. */
export function inviteAck(): string {
  return invite({ body: '' })
    .replace('INVITE sip', 'ACK sip')
    .replace('314159 INVITE', '314159 ACK')
    .replace('To: Bob <sip:bob@biloxi.example.com>', 'To: Bob <sip:bob@biloxi.example.com>;tag=uas')
}

export function options(branch = 'z9hG4bKopt1'): string {
  return [
    'OPTIONS sip:carrier.example.net SIP/2.0',
    `Via: SIP/2.0/UDP 192.0.2.1:5060;branch=${branch};rport`,
    'Max-Forwards: 70',
    'To: <sip:carrier.example.net>',
    'From: <sip:ping@fluffycall.example>;tag=abc',
    'Call-ID: opt-1@192.0.2.1',
    'CSeq: 7 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n')
}

const parser = new SipMessageParser()

export function parseRequest(text: string): SipRequest {
  const message = parser.parse(Buffer.from(text))
  if (!(message instanceof SipRequest)) {
    throw new Error('expected a request')
  }
  return message
}

export function parseResponse(text: string): SipResponse {
  const message = parser.parse(Buffer.from(text))
  if (!(message instanceof SipResponse)) {
    throw new Error('expected a response')
  }
  return message
}

export const PEER: SipDestination = { protocol: 'udp', host: '192.0.2.20', port: 5060 }

export interface SentMessage {
  at: number
  message: SipMessage
  destination: SipDestination
}

/**
 * Records what a transaction sends, with the virtual time of each send. Nothing is delivered,
 * which is how the tests model lost packets.
 */
export class RecordingTransport implements TransactionTransport {
  readonly sent: SentMessage[] = []
  failNext = false

  constructor(
    readonly reliable: boolean,
    private readonly now: () => number
  ) {}

  send(message: SipMessage, destination: SipDestination): void {
    if (this.failNext) {
      this.failNext = false
      throw new Error('connection reset')
    }
    this.sent.push({ at: this.now(), message, destination })
  }

  times(): number[] {
    return this.sent.map((entry) => entry.at)
  }

  requests(method: string): SipRequest[] {
    return this.sent
      .map((entry) => entry.message)
      .filter(
        (message): message is SipRequest =>
          message instanceof SipRequest && message.method === method
      )
  }

  responses(status?: number): SipResponse[] {
    return this.sent
      .map((entry) => entry.message)
      .filter(
        (message): message is SipResponse =>
          message instanceof SipResponse && (status === undefined || message.status === status)
      )
  }
}

/** A response to `request` as the peer would send it. */
export function responseTo(request: SipRequest, status: number, toTag = 'peer-tag'): SipResponse {
  const lines = [
    `SIP/2.0 ${status} Reason`,
    ...request.headers.getAll('via').map((via) => `Via: ${via}`),
    `From: ${request.headers.get('from')}`,
    `To: ${status > 100 ? request.to.withTag(toTag).toString() : request.headers.get('to')}`,
    `Call-ID: ${request.callId}`,
    `CSeq: ${request.cseq.toString()}`,
    'Content-Length: 0',
    '',
    '',
  ]
  return parseResponse(lines.join('\r\n'))
}
