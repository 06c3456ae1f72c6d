import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'

/** The layer above a client transaction: a dialog, a user agent client, the registration client. */
export interface ClientTransactionUser {
  /** Provisional and final responses, each once; 2xx retransmissions to INVITE too (RFC 6026). */
  receiveResponse(response: SipResponse): void
  /** Timer B or F fired without a final response; RFC 3261 treats it as a 408. */
  timeout?(): void
  transportError?(error: unknown): void
}

/** The layer above a server transaction, attached once the core knows who handles the request. */
export interface ServerTransactionUser {
  /** Timer H fired: the final non-2xx response to an INVITE was never acknowledged. */
  timeout?(): void
  /** RFC 6026 7.1: an ACK that matched the INVITE server transaction while it was Accepted. */
  receiveAck?(ack: SipRequest): void
  transportError?(error: unknown): void
}
