import type {
  CarrierEntryOptions,
  CarrierFactory,
  NonCarrierSubProcessor,
} from '#calls/carriers/types'
import type { GenericTrunkConfig } from '#plugins/carriers/generic/types'
import type { LocalCarrierConfig } from '#plugins/carriers/local/types'
import type { SipgateTrunkingConfig } from '#plugins/carriers/sipgate_trunking/types'
import type { TwilioElasticConfig } from '#plugins/carriers/twilio_elastic/types'

export interface RegionConfig {
  /** Carrier name (unique across regions) to its factory. */
  carriers: Record<string, CarrierFactory>
  /** Carriers tried first for 110/112, in this order; the other active carriers follow. */
  emergencyCarriers?: string[]
}

export interface CarriersConfig {
  regions: Record<string, RegionConfig>
  /** Hosting, email and other sub-processors that are not carriers (public pages only). */
  nonCarrierSubProcessors: NonCarrierSubProcessor[]
  /** Art. 28(2) GDPR: how many days before a new carrier becomes active customers are told. */
  announcementNoticeDays: number
}

export function defineConfig(
  config: Partial<CarriersConfig> & Pick<CarriersConfig, 'regions'>
): CarriersConfig {
  return {
    nonCarrierSubProcessors: [],
    announcementNoticeDays: 30,
    ...config,
  }
}

function factory<Config>(
  kind: string,
  config: Config & CarrierEntryOptions,
  load: () => Promise<{ default: new (config: Config, credentials?: any) => any }>
): CarrierFactory {
  const { enabled = true, label, ...pluginConfig } = config
  return {
    kind,
    options: { enabled, label },
    async resolve(credentials) {
      const { default: Plugin } = await load()
      return new Plugin(pluginConfig as Config, credentials)
    },
  }
}

/** Lazy factories: a plugin module is imported only when a configured carrier is resolved. */
export const carriers = {
  generic: (config: GenericTrunkConfig & CarrierEntryOptions) =>
    factory('generic', config, () => import('#plugins/carriers/generic/main')),
  local: (config: LocalCarrierConfig & CarrierEntryOptions) =>
    factory('local', config, () => import('#plugins/carriers/local/main')),
  sipgateTrunking: (config: SipgateTrunkingConfig & CarrierEntryOptions) =>
    factory('sipgate_trunking', config, () => import('#plugins/carriers/sipgate_trunking/main')),
  twilioElastic: (config: TwilioElasticConfig & CarrierEntryOptions) =>
    factory('twilio_elastic', config, () => import('#plugins/carriers/twilio_elastic/main')),
}
