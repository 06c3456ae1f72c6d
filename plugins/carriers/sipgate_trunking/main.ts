import {
  SignalledCarrierPlugin,
  type CredentialOverride,
  type SubProcessorMetadata,
  type TrunkProfile,
} from '#calls/carriers/types'
import type { SipgateTrunkingConfig } from '#plugins/carriers/sipgate_trunking/types'

/**
 * sipgate trunking (Düsseldorf): a carrier that processes in Germany only. The connection
 * parameters are the publicly documented ones and the legal metadata is our reading of public
 * sources; both stay `confirmed: false` until an operator checks them against the signed contract.
 */
export default class SipgateTrunking extends SignalledCarrierPlugin {
  readonly kind = 'sipgate_trunking'
  readonly developmentOnly = false
  readonly profile: TrunkProfile

  readonly subProcessor: SubProcessorMetadata = {
    legalEntity: {
      name: 'sipgate GmbH',
      address: {
        street: 'Gladbacher Straße 74',
        postalCode: '40219',
        city: 'Düsseldorf',
        country: 'DE',
      },
    },
    entityCountry: 'DE',
    processing: {
      signalling: [{ country: 'DE', dataCentre: 'Düsseldorf (DE)' }],
      media: [{ country: 'DE', dataCentre: 'Düsseldorf (DE)' }],
      metadata: [{ country: 'DE', dataCentre: 'Düsseldorf (DE)' }],
    },
    purpose: {
      de: 'Vermittlung von Anrufen in das und aus dem öffentlichen Telefonnetz, Rufnummern',
      en: 'Connecting calls to and from the public telephone network, phone numbers',
    },
    dataCategories: [
      'phone_numbers',
      'call_metadata',
      'call_content_in_transit',
      'emergency_location',
      'ip_addresses',
    ],
    transfers: [],
    since: '2025-01-01',
    dpaUrl: 'https://www.sipgate.de/agb',
    confirmed: false,
  }

  constructor(config: SipgateTrunkingConfig, credentials: CredentialOverride = {}) {
    super()
    this.profile = {
      hosts: ['sipconnect.sipgate.de'],
      port: 5061,
      transport: 'tls',
      auth: {
        method: 'registration',
        username: credentials.username ?? config.username,
        password: credentials.password ?? config.password,
        registrar: 'sipconnect.sipgate.de',
        expiresSeconds: 600,
      },
      codecs: ['PCMA', 'PCMU', 'telephone-event'],
      srtp: 'sdes',
      numberFormat: 'e164_plus',
      callerId: { identity: 'pai', clir: 'privacy_header' },
      emergency: { location: 'carrier_registered', numbers: ['110', '112'] },
      healthCheck: { enabled: true, intervalSeconds: 30, timeoutMs: 2000, failuresBeforeDown: 3 },
    }
  }
}
