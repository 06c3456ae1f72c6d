import type ViaHeader from '#sip/message/via_header'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import type { PacketOrigin } from '#sip/transport/sip_transport'

/**
 * Where the responses to a request go (RFC 3261 18.2.2, RFC 3581 4), given its top Via after
 * `stampReceived`. Stream transports answer on the connection the request came in on and fall
 * back to received:sent-by-port if it has closed; UDP answers to received:rport when rport was
 * asked for, otherwise to received (or the sent-by host) at the sent-by port. maddr is not
 * honoured: it would let any peer aim our responses at a third party.
 */
export function responseDestination(topVia: ViaHeader, origin: PacketOrigin): SipDestination {
  const host = topVia.received ?? topVia.host
  if (origin.connectionId !== undefined) {
    return {
      protocol: origin.protocol,
      host,
      port: topVia.sentByPort,
      connectionId: origin.connectionId,
    }
  }
  const rport = topVia.rport
  if (typeof rport === 'number') {
    return { protocol: origin.protocol, host, port: rport }
  }
  return { protocol: origin.protocol, host, port: topVia.sentByPort }
}
