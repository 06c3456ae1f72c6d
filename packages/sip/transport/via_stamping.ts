import type SipRequest from '#sip/message/sip_request'
import type ViaHeader from '#sip/message/via_header'

/**
 * RFC 3261 18.2.1 and RFC 3581 4: records where a request really came from on its top Via.
 * `received` is added when the sent-by host differs from the source address, and always when the
 * client asked for rport, whose value becomes the source port. Returns the stamped top Via.
 */
export function stampReceived(request: SipRequest, address: string, port: number): ViaHeader {
  const received = request.topVia
  const rportRequested = received.rport === true
  // One copy of the parameters for both (issue 17: every request received)
  const top = rportRequested
    ? received.withParams([
        ['received', address],
        ['rport', String(port)],
      ])
    : received.host.toLowerCase() !== address.toLowerCase()
      ? received.withParam('received', address)
      : received
  if (top !== received) {
    const values = request.headers.getAll('via')
    values[0] = top.toString()
    request.headers.set('Via', ...values)
  }
  return top
}
