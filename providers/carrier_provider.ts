import type { ApplicationService } from '@adonisjs/core/types'
import CarrierManager from '#calls/carriers/carrier_manager'
import type { CarriersConfig } from '#calls/carriers/define_config'
import CarrierHealthService from '#calls/services/carrier_health_service'
import type { SipConfig } from '#sip'
import SubProcessorRegistry from '#core/services/sub_processor_registry'

/**
 * Builds the carrier manager from config/carriers.ts, refuses to boot when a carrier is
 * misconfigured (the error names the carrier and the field), and closes the plugins on shutdown.
 */
export default class CarrierProvider {
  /** Set once something made the health service: only then is there anything to stop. */
  #health: CarrierHealthService | undefined

  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton(CarrierManager, async () => {
      const config = this.app.config.get<CarriersConfig>('carriers')
      if (!config?.regions)
        throw new Error('config/carriers.ts must export defineConfig({ regions: { ... } })')
      const { default: CredentialVault } = await import('#calls/carriers/credential_vault')
      return new CarrierManager(config, {
        production: this.app.inProduction,
        credentials: (name) => CredentialVault.forCarrier(name),
      })
    })
    this.app.container.alias('carriers', CarrierManager)

    // The carriers and the configured hosting/email services are what the public pages list.
    this.app.container.resolving(SubProcessorRegistry, (registry, resolver) => {
      registry.register(async () => {
        const { default: CarrierSubProcessorSource } =
          await import('#calls/services/carrier_sub_processor_source')
        return resolver.make(CarrierSubProcessorSource)
      })
    })

    this.app.container.singleton(CarrierHealthService, async (resolver) => {
      const { default: CarrierDirectory } = await import('#calls/services/carrier_directory')
      const { SystemClock } = await import('#sip')
      const config = this.app.config.get<SipConfig>('sip')
      return new CarrierHealthService({
        directory: new CarrierDirectory(await resolver.make(CarrierManager)),
        signalling: () => resolver.make('sip.carriers'),
        clock: new SystemClock(),
        logger: await resolver.make('logger'),
        syncIntervalMs: config.carrierHealth?.syncIntervalMs ?? 30_000,
      })
    })
    this.app.container.resolving(CarrierHealthService, (service) => {
      this.#health = service
    })
  }

  /**
   * Validates when the app starts to serve (web server, tests), before it accepts traffic. Not for
   * ace commands (migrations run before the carrier tables exist) nor the warm-up of
   * `ace codegen`, which starts providers too: a stored-credential look-up would open a database
   * pool that keeps the finished command alive.
   */
  async start() {
    if (!['web', 'test'].includes(this.app.getEnvironment())) return
    if (this.app.getMode() === 'warmup') return
    const manager = await this.app.container.make(CarrierManager)
    try {
      await manager.validateAll()
    } catch (error) {
      // The credential look-up opened the database pool, whose timer would keep the failed process alive.
      const db = await this.app.container.make('lucid.db')
      await db.manager.closeAll()
      throw error
    }
  }

  /**
   * Health checks and registrations towards the active carriers start once the SIP stack runs
   * (web server only: tests start them by hand, ace commands never).
   */
  async ready() {
    if (!['web', 'test'].includes(this.app.getEnvironment())) return
    if (this.app.getMode() === 'warmup') return
    if (!this.app.config.get<SipConfig>('sip')?.carrierHealth?.automatic) return
    const health = await this.app.container.make(CarrierHealthService)
    await health.start()
  }

  async shutdown() {
    // Unregisters from the carriers (over the SIP stack, if it still runs).
    await this.#health?.stop()
    if (this.app.container.hasBinding(CarrierManager)) {
      const manager = await this.app.container.make(CarrierManager)
      await manager.closeAll()
    }
  }
}

declare module '@adonisjs/core/types' {
  export interface ContainerBindings {
    carriers: CarrierManager
  }
}
