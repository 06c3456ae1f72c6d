import type { ApplicationService } from '@adonisjs/core/types'
import type SipTransportLayer from '#sip/transport/sip_transport_layer'
import type SipStack from '#sip/sip_stack'
import type { SipTransportConfig } from '#sip/transport/sip_transport_config'
import type { SipConfig } from '#sip/sip_config'

/**
 * Binds the SIP stack (transports, user agent core, registrar), starts it when the app is ready
 * (web server and tests only, never for ace commands) and closes every SIP socket on shutdown.
 */
export default class SipProvider {
  #stack: SipStack | undefined

  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton('sip.transport', async (resolver) => {
      const { default: Layer } = await import('#sip/transport/sip_transport_layer')
      const { default: SystemClock } = await import('#sip/clock/system_clock')
      const { loadTlsCredentials } = await import('#sip/transport/tls_credentials')
      const config = this.app.config.get<SipTransportConfig>('sip')
      if (!config) {
        throw new Error('config/sip.ts is missing: the SIP transport layer needs it')
      }
      const logger = await resolver.make('logger')
      const paths = { certPath: config.tls.certPath, keyPath: config.tls.keyPath }
      const selfSigned = {
        allowSelfSigned: !this.app.inProduction,
        selfSignedDirectory: this.app.tmpPath('sip-tls'),
      }
      return new Layer({
        config,
        clock: new SystemClock(),
        logger,
        loadTlsCredentials: () => loadTlsCredentials(paths, selfSigned),
      })
    })

    this.app.container.singleton('sip.stack', async (resolver) => {
      const { default: Stack } = await import('#sip/sip_stack')
      const { default: UserAgentCore } = await import('#sip/ua/sip_user_agent_core')
      const { default: SystemClock } = await import('#sip/clock/system_clock')
      const { default: RegistrarFactory } = await import('#calls/signalling/registrar_factory')
      const layer = await resolver.make('sip.transport')
      const logger = await resolver.make('logger')
      const config = this.app.config.get<SipConfig>('sip')
      const clock = new SystemClock()
      const core = new UserAgentCore({
        transport: layer,
        clock,
        timers: config.timers,
        productName: 'FluffyCall',
        // A web phone that reconnected sends an empty INFO so its call follows it to the new socket.
        inDialogMethods: ['INFO'],
        onHandlerError: (error) => logger.error({ err: error }, 'SIP request handler failed'),
      })
      return new Stack(layer, core, await RegistrarFactory.create(), logger, {
        clock,
        registrationRetryBaseMs: config.carrierHealth?.registrationRetryBaseMs,
        registrationRetryMaxMs: config.carrierHealth?.registrationRetryMaxMs,
      })
    })
  }

  async ready() {
    if (!['web', 'test'].includes(this.app.getEnvironment())) {
      return
    }
    const stack = await this.app.container.make('sip.stack')
    await stack.start()
    this.#stack = stack
    if (stack.layer.webSocket) {
      await this.#attachToHttpServer(stack.layer)
    }
  }

  async shutdown() {
    await this.#stack?.close()
  }

  /**
   * The web server exists before `ready`. The test HTTP server is created later, per suite, by the
   * test bootstrap, which attaches the SIP WebSocket to it explicitly (tests/bootstrap.ts).
   */
  async #attachToHttpServer(layer: SipTransportLayer) {
    const server = await this.app.container.make('server')
    const nodeServer = server.getNodeServer()
    if (nodeServer) layer.attachHttpServer(nodeServer)
  }
}

declare module '@adonisjs/core/types' {
  export interface ContainerBindings {
    'sip.transport': SipTransportLayer
    'sip.stack': SipStack
  }
}
