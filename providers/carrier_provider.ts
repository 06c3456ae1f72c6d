import type { ApplicationService } from '@adonisjs/core/types'
import CarrierManager from '#calls/carriers/carrier_manager'
import type { CarriersConfig } from '#calls/carriers/define_config'

/**
 * Builds the carrier manager from config/carriers.ts, refuses to boot when a carrier is
 * misconfigured (the error names the carrier and the field), and closes the plugins on shutdown.
 */
export default class CarrierProvider {
  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton(CarrierManager, async () => {
      const config = this.app.config.get<CarriersConfig>('carriers')
      if (!config?.regions) throw new Error('config/carriers.ts must export defineConfig({ regions: { ... } })')
      const { default: CredentialVault } = await import('#calls/carriers/credential_vault')
      return new CarrierManager(config, {
        production: this.app.inProduction,
        credentials: (name) => CredentialVault.forCarrier(name),
      })
    })
    this.app.container.alias('carriers', CarrierManager)
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

  async shutdown() {
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
