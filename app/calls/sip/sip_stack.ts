import type SipTransportLayer from '#calls/sip/transport/sip_transport_layer'
import type SipUserAgentCore from '#calls/sip/ua/sip_user_agent_core'
import type { RegistrarParts } from '#calls/sip/registrar/registrar_factory'
import type IncomingRequest from '#calls/sip/ua/incoming_request'
import type { SipLogger } from '#calls/sip/transport/sip_traffic_logger'

/**
 * The assembled SIP stack of one process: transports below, the user agent core (transactions,
 * dialogs) above them, and the registrar answering REGISTER. The B2BUA (calls) attaches its
 * INVITE handling to `core`; nothing here knows about calls.
 */
export default class SipStack {
  constructor(
    readonly layer: SipTransportLayer,
    readonly core: SipUserAgentCore,
    readonly registrar: RegistrarParts,
    private logger: SipLogger
  ) {}

  /** Opens the sockets and routes what they receive to the core. */
  async start() {
    this.core.setHandler('REGISTER', (incoming) => this.#register(incoming))
    this.layer.attach(this.core)
    await this.layer.start()
  }

  async close() {
    this.layer.detach()
    this.core.close()
    await this.layer.close()
    await this.registrar.bindings.close()
    await this.registrar.nonceCounts.close()
  }

  #register(incoming: IncomingRequest) {
    this.registrar.registrar
      .handle(incoming.request, incoming.transaction.destination)
      .then((response) => incoming.send(response))
      .catch((error) => {
        this.logger.error({ err: error }, 'REGISTER failed')
        incoming.respond(500)
      })
  }
}
