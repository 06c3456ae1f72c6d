import {
  SignalledCarrierPlugin,
  type SubProcessorMetadata,
  type TrunkProfile,
} from '#calls/carriers/types'
import type { TwilioElasticConfig } from '#plugins/carriers/twilio_elastic/types'

/**
 * Twilio Elastic SIP Trunking: signalling and media can stay at a European edge, but call records
 * and account data are processed in the USA, so it is a transfer under SCCs. The connection
 * parameters are the publicly documented ones and the legal metadata is our reading of public
 * sources; both stay `confirmed: false` until an operator checks them against the signed DPA.
 */
export default class TwilioElastic extends SignalledCarrierPlugin {
  readonly kind = 'twilio_elastic'
  readonly developmentOnly = false
  readonly profile: TrunkProfile
  readonly subProcessor: SubProcessorMetadata

  constructor(config: TwilioElasticConfig) {
    super()
    this.profile = {
      hosts: [`${config.terminationName}.pstn.${config.edge}.twilio.com`],
      port: 5061,
      transport: 'tls',
      auth: { method: 'ip', sourceAddresses: config.sourceAddresses },
      codecs: ['PCMU', 'PCMA', 'telephone-event'],
      srtp: 'sdes',
      numberFormat: 'e164_plus',
      callerId: { identity: 'from', clir: 'privacy_header' },
      emergency: { location: 'carrier_registered', numbers: ['112'] },
      healthCheck: { enabled: true, intervalSeconds: 30, timeoutMs: 2000, failuresBeforeDown: 3 },
    }
    const edgeSite = {
      frankfurt: ['DE', 'Frankfurt (DE)'],
      dublin: ['IE', 'Dublin (IE)'],
      ashburn: ['US', 'Ashburn, VA (US)'],
    }[config.edge]
    const edge = { country: edgeSite[0], dataCentre: `Twilio edge ${edgeSite[1]}` }
    this.subProcessor = {
      legalEntity: {
        name: 'Twilio Inc.',
        address: {
          street: '101 Spear Street, Fifth Floor',
          postalCode: '94105',
          city: 'San Francisco, CA',
          country: 'US',
        },
      },
      entityCountry: 'US',
      processing: {
        signalling: [edge, { country: 'US', dataCentre: 'Twilio US1 region (US)' }],
        media: [edge],
        metadata: [{ country: 'US', dataCentre: 'Twilio US1 region (US)' }],
      },
      purpose: {
        de: 'Vermittlung von Anrufen in das öffentliche Telefonnetz (Terminierung)',
        en: 'Connecting calls to the public telephone network (termination)',
      },
      dataCategories: ['phone_numbers', 'call_metadata', 'call_content_in_transit', 'ip_addresses'],
      transfers: [
        {
          country: 'US',
          mechanism: 'scc',
          module: 3,
          reference:
            'Twilio Data Protection Addendum, SCCs 2021/914 module 3 (to be confirmed against the signed copy)',
        },
      ],
      since: '2025-01-01',
      dpaUrl: 'https://www.twilio.com/en-us/legal/data-protection-addendum',
      confirmed: false,
    }
  }
}
