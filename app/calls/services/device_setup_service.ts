import app from '@adonisjs/core/services/app'
import type { SipTransportConfig } from '#sip'
import { configuredRealm } from '#calls/signalling/registrar_settings'

export type DeskPhoneTransport = 'udp' | 'tcp' | 'tls'

export interface DeskPhoneSetup {
  /** Where phones register (registrar and outbound proxy): the public host, else the SIP domain. */
  server: string
  /** The SIP domain and digest realm of the credentials. */
  domain: string
  /** The transports a desk phone can use and their ports as this node listens, TLS first. */
  transports: Array<{ protocol: DeskPhoneTransport; port: number }>
}

/** What a customer types into a desk phone, read from the SIP configuration and the bound ports. */
export default class DeviceSetupService {
  async describe(): Promise<DeskPhoneSetup> {
    const config = app.config.get<SipTransportConfig>('sip')
    const layer = app.container.hasBinding('sip.transport')
      ? await app.container.make('sip.transport')
      : null
    const domain = configuredRealm()
    const transports = (['tls', 'udp', 'tcp'] as const)
      .filter((protocol) => config[protocol].enabled)
      .map((protocol) => ({
        protocol,
        port: layer?.localAddress(protocol)?.port ?? config[protocol].port,
      }))
      .filter((transport) => transport.port > 0)
    return { server: config.publicHost ?? domain, domain, transports }
  }
}
