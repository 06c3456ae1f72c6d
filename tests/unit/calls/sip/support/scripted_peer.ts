import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import type SipMessage from '#sip/message/sip_message'
import { createResponse, type ResponseOptions } from '#sip/message/create_response'
import type { RequestSource } from '#sip/transaction/transaction_manager'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import type {
  LoopbackEndpoint,
  LoopbackReceiver,
} from '#tests/unit/calls/sip/support/loopback_network'

/**
 * A peer without a stack: it records what reaches it and sends exactly what the test writes,
 * to play a forking proxy, a record-routing proxy or a peer with odd requests.
 */
export default class ScriptedPeer implements LoopbackReceiver {
  readonly requests: Array<{ request: SipRequest; source: RequestSource }> = []
  readonly responses: SipResponse[] = []
  readonly endpoint: LoopbackEndpoint

  constructor(endpoint: LoopbackEndpoint) {
    this.endpoint = endpoint
    endpoint.attach(this)
  }

  receiveRequest(request: SipRequest, source: RequestSource): void {
    this.requests.push({ request, source })
  }

  receiveResponse(response: SipResponse): void {
    this.responses.push(response)
  }

  received(method: string): SipRequest[] {
    return this.requests
      .map((entry) => entry.request)
      .filter((request) => request.method === method)
  }

  last(method: string): { request: SipRequest; source: RequestSource } {
    const entry = this.requests.filter((candidate) => candidate.request.method === method).at(-1)
    if (!entry) {
      throw new Error(`the scripted peer received no ${method}`)
    }
    return entry
  }

  send(message: SipMessage, destination: SipDestination): void {
    this.endpoint.send(message, destination)
  }

  /** Answers the last request of `method` back to where it came from. */
  respond(method: string, status: number, options: ResponseOptions = {}): SipResponse {
    const { request, source } = this.last(method)
    const response = createResponse(request, status, options)
    this.send(response, source.responseDestination)
    return response
  }
}
