import type SipRequest from '#sip/message/sip_request'
import type ViaHeader from '#sip/message/via_header'

/**
 * RFC 3261 18.2.1 and RFC 3581 4: records where a request really came from on its top Via.
 * `received` is added when the sent-by host differs from the source address, and always when the
 * client asked for rport, whose value becomes the source port. Returns the stamped top Via.
 */
export function stampReceived(request: SipRequest, address: string, port: number): ViaHeader {
  const values = request.headers.getAll('via')
  let top = request.topVia
  const rportRequested = top.rport === true
  if (rportRequested || top.host.toLowerCase() !== address.toLowerCase()) {
    top = top.withParam('received', address)
  }
  if (rportRequested) {
    top = top.withParam('rport', String(port))
  }
  if (top !== request.topVia) {
    values[0] = top.toString()
    request.headers.set('Via', ...values)
  }
  return top
}
