import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import { createResponse } from '#sip/message/create_response'
import type { SipMessageSource, SipTransportUser } from '#sip/transport/sip_transport_user'

export const ALLOWED_METHODS = ['OPTIONS']

/**
 * The stand-in for the dialog layer until it attaches with `SipTransportLayer.attach()`:
 * answers OPTIONS with 200 (so carriers' health checks pass) and anything else but ACK with 501.
 * Stateless on purpose: a retransmitted OPTIONS is simply answered again.
 */
export default class DefaultRequestHandler implements SipTransportUser {
  onRequest(request: SipRequest, source: SipMessageSource): void {
    if (request.method === 'ACK') {
      return
    }
    const response =
      request.method === 'OPTIONS'
        ? createResponse(request, 200, {
            headers: [
              ['Allow', ALLOWED_METHODS.join(', ')],
              ['Accept', 'application/sdp'],
              ['Supported', ''],
            ],
          })
        : createResponse(request, 501, { headers: [['Allow', ALLOWED_METHODS.join(', ')]] })
    source.transport.send(response, source.responseDestination)
  }

  /** Nothing is sent from here, so any response is a stray one. */
  onResponse(_response: SipResponse): void {}
}
