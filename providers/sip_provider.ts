import type { ApplicationService } from '@adonisjs/core/types'
import type { SipClock, SipTransportLayer, SipStack, SipTransportConfig, SipConfig } from '#sip'
import type SipCarrierSignalling from '#calls/carriers/sip_carrier_signalling'

/**
 * Binds the SIP stack (transports, user agent core, registrar), starts it when the app is ready
 * (web server and tests only, never for ace commands) and closes every SIP socket on shutdown.
 */
export default class SipProvider {
  #stack: SipStack | undefined

  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton('sip.transport', async (resolver) => {
      const { SipTransportLayer: Layer, SystemClock, loadTlsCredentials } = await import('#sip')
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

    // The transactions' and dialogs' time. Tests get the real clock they can move forward
    // (WarpClock), so a test need not wait out Timer J or L to see a transaction end.
    this.app.container.singleton('sip.clock', async () => {
      const { SystemClock, WarpClock } = await import('#sip')
      return this.app.inTest ? new WarpClock() : new SystemClock()
    })

    this.app.container.singleton('sip.stack', async (resolver) => {
      const { SipStack: Stack, SipUserAgentCore: UserAgentCore } = await import('#sip')
      const { default: RegistrarFactory } = await import('#calls/signalling/registrar_factory')
      const layer = await resolver.make('sip.transport')
      const logger = await resolver.make('logger')
      const config = this.app.config.get<SipConfig>('sip')
      const clock = await resolver.make('sip.clock')
      const core = new UserAgentCore({
        transport: layer,
        clock,
        timers: config.timers,
        productName: 'FluffyCall',
        // A web phone that reconnected sends an empty INFO so its call follows it to the new socket.
        inDialogMethods: ['INFO', 'REFER'],
        onHandlerError: (error) => logger.error({ err: error }, 'SIP request handler failed'),
      })
      const { isRedisUnavailable } = await import('#core/redis_unavailable')
      return new Stack(layer, core, await RegistrarFactory.create(), logger, {
        unavailable: isRedisUnavailable,
        retryAfterSeconds: this.app.config.get<number>('calls.retryAfterSeconds', 30),
      })
    })

    // The carriers' OPTIONS and REGISTER (carrier health checks) go through the stack; they end
    // (un-registering) before the stack closes.
    this.app.container.singleton('sip.carriers', async (resolver) => {
      const { default: SipCarrierSignalling } =
        await import('#calls/carriers/sip_carrier_signalling')
      const { SystemClock } = await import('#sip')
      const stack = await resolver.make('sip.stack')
      const config = this.app.config.get<SipConfig>('sip')
      const carriers = new SipCarrierSignalling({
        core: stack.core,
        clock: new SystemClock(),
        resolve: (target) => stack.resolveTargets(target),
        registrationRetryBaseMs: config.carrierHealth?.registrationRetryBaseMs,
        registrationRetryMaxMs: config.carrierHealth?.registrationRetryMaxMs,
      })
      stack.beforeClose(() => carriers.close())
      return carriers
    })
  }

  async ready() {
    if (!['web', 'test'].includes(this.app.getEnvironment())) {
      return
    }
    const stack = await this.app.container.make('sip.stack')
    await stack.start()
    this.#stack = stack
    const layer = await this.app.container.make('sip.transport')
    if (layer.webSocket) {
      await this.#attachToHttpServer(layer)
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
    'sip.clock': SipClock & { warp?(ms: number): void }
    'sip.stack': SipStack
    'sip.carriers': SipCarrierSignalling
  }
}
