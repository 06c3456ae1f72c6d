import CarrierConfigError from '#calls/carriers/carrier_config_error'
import {
  validateCarrierPlugin,
  validateNonCarrierSubProcessor,
} from '#calls/carriers/carrier_validator'
import type { CarriersConfig } from '#calls/carriers/define_config'
import type {
  CarrierFactory,
  CarrierPlugin,
  CredentialOverride,
  NonCarrierSubProcessor,
} from '#calls/carriers/types'
import { routingChanged } from '#calls/routing/routing_changes'

/** A configured carrier as the rest of the app sees it, before any plugin is loaded. */
export interface CarrierEntry {
  name: string
  region: string
  kind: string
  label: string
  /** The config switch; the database can only switch an enabled carrier off, never one on. */
  configEnabled: boolean
  /** Tried first for 110/112 in its region. */
  emergencyRank: number | null
}

export type CredentialSource = (name: string) => Promise<CredentialOverride>

/**
 * One plugin instance per carrier name, created lazily with the operator's credential overrides
 * applied. `fake(config)` swaps the whole configuration for a test double; `restore()` undoes it.
 */
export default class CarrierManager {
  #config: CarriersConfig
  #original: CarriersConfig | null = null
  #instances = new Map<string, Promise<CarrierPlugin>>()

  constructor(
    config: CarriersConfig,
    protected options: { production: boolean; credentials?: CredentialSource }
  ) {
    this.#config = config
  }

  get config() {
    return this.#config
  }

  /** Production rules apply (development carriers refused, only confirmed legal metadata goes live). */
  get production() {
    return this.options.production
  }

  get announcementNoticeDays() {
    return this.#config.announcementNoticeDays
  }

  get nonCarrierSubProcessors(): NonCarrierSubProcessor[] {
    return this.#config.nonCarrierSubProcessors
  }

  entries(): CarrierEntry[] {
    return Object.entries(this.#config.regions).flatMap(([region, regionConfig]) =>
      Object.entries(regionConfig.carriers).map(([name, factory]) => ({
        name,
        region,
        kind: factory.kind,
        label: factory.options.label ?? name,
        configEnabled: factory.options.enabled !== false,
        emergencyRank: this.#emergencyRank(regionConfig.emergencyCarriers, name),
      }))
    )
  }

  entry(name: string) {
    return this.entries().find((entry) => entry.name === name) ?? null
  }

  has(name: string) {
    return this.entry(name) !== null
  }

  use(name: string): Promise<CarrierPlugin> {
    let instance = this.#instances.get(name)
    if (!instance) {
      instance = this.#resolve(name)
      this.#instances.set(name, instance)
      // A failed resolve must not stick in the cache.
      instance.catch(() => this.#instances.delete(name))
    }
    return instance
  }

  /** Drops the cached instance (after a credential change), closing it first. */
  async forget(name: string) {
    const instance = this.#instances.get(name)
    this.#instances.delete(name)
    if (instance) await (await instance).close()
  }

  /**
   * Loads and validates every configured carrier and non-carrier sub-processor. Throws a
   * CarrierConfigError naming the carrier and field of the first problem.
   */
  async validateAll() {
    const seen = new Map<string, string>()
    for (const [region, regionConfig] of Object.entries(this.#config.regions)) {
      for (const name of Object.keys(regionConfig.carriers)) {
        if (!/^[a-z][a-z0-9_]{0,39}$/.test(name)) {
          throw new CarrierConfigError(
            name,
            `regions.${region}.carriers`,
            'names are lower-case snake_case, at most 40 characters'
          )
        }
        if (seen.has(name)) {
          throw new CarrierConfigError(
            name,
            `regions.${region}.carriers`,
            `the name is already used in region "${seen.get(name)}"`
          )
        }
        seen.set(name, region)
      }
      for (const name of regionConfig.emergencyCarriers ?? []) {
        if (!(name in regionConfig.carriers)) {
          throw new CarrierConfigError(
            name,
            `regions.${region}.emergencyCarriers`,
            'is not a carrier of this region'
          )
        }
      }
    }
    for (const entry of this.entries()) {
      const plugin = await this.use(entry.name)
      await validateCarrierPlugin(entry.name, plugin, {
        production: this.options.production,
        requireCredentials: entry.configEnabled,
      })
    }
    for (const subProcessor of this.#config.nonCarrierSubProcessors) {
      await validateNonCarrierSubProcessor(subProcessor, { production: this.options.production })
    }
  }

  /** Test double: the given config replaces the real one until `restore()`. */
  fake(config: CarriersConfig) {
    if (!this.#original) this.#original = this.#config
    this.#config = config
    this.#instances.clear()
    routingChanged()
    return this
  }

  restore() {
    if (this.#original) this.#config = this.#original
    this.#original = null
    this.#instances.clear()
    routingChanged()
  }

  /** Closes every loaded plugin (provider shutdown). */
  async closeAll() {
    const instances = [...this.#instances.values()]
    this.#instances.clear()
    await Promise.allSettled(instances.map(async (instance) => (await instance).close()))
  }

  #factory(name: string): CarrierFactory {
    for (const regionConfig of Object.values(this.#config.regions)) {
      if (name in regionConfig.carriers) return regionConfig.carriers[name]
    }
    throw new Error(`Unknown carrier "${name}"`)
  }

  async #resolve(name: string) {
    const factory = this.#factory(name)
    const credentials = this.options.credentials ? await this.options.credentials(name) : {}
    return factory.resolve(credentials)
  }

  #emergencyRank(list: string[] | undefined, name: string) {
    const index = (list ?? []).indexOf(name)
    return index === -1 ? null : index
  }
}
