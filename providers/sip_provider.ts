import type { ApplicationService } from '@adonisjs/core/types'
import type SipTransportLayer from '#calls/sip/transport/sip_transport_layer'
import type { SipTransportConfig } from '#calls/sip/transport/sip_transport_config'

/**
 * Binds the SIP transport layer, starts it when the app is ready (web server and tests only,
 * never for ace commands) and closes every SIP socket on shutdown.
 */
export default class SipProvider {
  #layer: SipTransportLayer | undefined

  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton('sip.transport', async (resolver) => {
      const { default: Layer } = await import('#calls/sip/transport/sip_transport_layer')
      const { default: SystemClock } = await import('#calls/sip/clock/system_clock')
      const { loadTlsCredentials } = await import('#calls/sip/transport/tls_credentials')
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
  }

  async ready() {
    if (!['web', 'test'].includes(this.app.getEnvironment())) {
      return
    }
    const layer = await this.app.container.make('sip.transport')
    await layer.start()
    this.#layer = layer
    if (layer.webSocket) {
      await this.#attachToHttpServer(layer)
    }
  }

  async shutdown() {
    await this.#layer?.close()
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
  }
}
