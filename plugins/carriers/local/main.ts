import { SignalledCarrierPlugin, type TrunkProfile } from '#calls/carriers/types'
import type { LocalCarrierConfig } from '#plugins/carriers/local/types'

/**
 * A SIP peer on loopback for development and tests. Nothing leaves the machine, so it declares no
 * sub-processor; it is refused in production and never appears on the public pages.
 */
export default class LocalCarrier extends SignalledCarrierPlugin {
  readonly kind = 'local'
  readonly developmentOnly = true
  readonly subProcessor = null
  readonly profile: TrunkProfile

  constructor(config: LocalCarrierConfig) {
    super()
    this.profile = {
      hosts: [config.host ?? '127.0.0.1'],
      port: config.port,
      signallingSources: config.signallingSources,
      transport: config.transport ?? 'udp',
      auth: { method: 'ip', sourceAddresses: ['127.0.0.1'] },
      codecs: ['PCMA', 'PCMU', 'telephone-event'],
      srtp: config.srtp ?? 'none',
      numberFormat: 'e164_plus',
      callerId: { identity: 'pai', clir: 'privacy_header', ...config.callerId },
      emergency: { location: 'pidf_lo', numbers: ['110', '112'] },
      healthCheck: {
        enabled: true,
        intervalSeconds: 30,
        timeoutMs: 2000,
        failuresBeforeDown: 3,
        ...config.healthCheck,
      },
    }
  }
}
