import app from '@adonisjs/core/services/app'
import CarrierManager from '#calls/carriers/carrier_manager'
import { carriers, defineConfig, type CarriersConfig } from '#calls/carriers/define_config'
import type { SubProcessorMetadata, TrunkProfile } from '#calls/carriers/types'

/** A valid TLS trunk with digest registration. */
export function euCarrierProfile(overrides: Partial<TrunkProfile> = {}): TrunkProfile {
  return {
    hosts: ['sip.eu-carrier.example'],
    port: 5061,
    transport: 'tls',
    auth: {
      method: 'registration',
      username: 'trunk-user',
      password: 'trunk-pass',
      expiresSeconds: 600,
    },
    codecs: ['PCMA', 'PCMU', 'telephone-event'],
    srtp: 'sdes',
    numberFormat: 'e164_plus',
    callerId: { identity: 'pai', clir: 'privacy_header' },
    emergency: { location: 'pidf_lo', numbers: ['110', '112'] },
    healthCheck: { enabled: true, intervalSeconds: 30, timeoutMs: 2000, failuresBeforeDown: 3 },
    ...overrides,
  }
}

export function euSubProcessor(name = 'EU Carrier GmbH'): SubProcessorMetadata {
  return {
    legalEntity: {
      name,
      address: { street: 'Hauptstraße 1', postalCode: '10115', city: 'Berlin', country: 'DE' },
    },
    entityCountry: 'DE',
    processing: {
      signalling: [{ country: 'DE', dataCentre: 'Frankfurt (DE)' }],
      media: [{ country: 'DE', dataCentre: 'Frankfurt (DE)' }],
      metadata: [{ country: 'DE', dataCentre: 'Frankfurt (DE)' }],
    },
    purpose: { de: 'Anrufvermittlung', en: 'Call delivery' },
    dataCategories: ['phone_numbers', 'call_metadata'],
    transfers: [],
    since: '2025-02-01',
    dpaUrl: 'https://eu-carrier.example/dpa',
    confirmed: true,
  }
}

export function usSubProcessor(name = 'US Carrier Inc.'): SubProcessorMetadata {
  return {
    legalEntity: {
      name,
      address: {
        street: '1 Main St',
        postalCode: '94105',
        city: 'San Francisco, CA',
        country: 'US',
      },
    },
    entityCountry: 'US',
    processing: {
      signalling: [{ country: 'DE', dataCentre: 'Frankfurt edge (DE)' }],
      media: [{ country: 'DE', dataCentre: 'Frankfurt edge (DE)' }],
      metadata: [{ country: 'US', dataCentre: 'Virginia (US)' }],
    },
    purpose: { de: 'Terminierung', en: 'Termination' },
    dataCategories: ['phone_numbers', 'call_metadata'],
    transfers: [{ country: 'US', mechanism: 'scc', module: 3, reference: 'DPA 2025, Annex I-III' }],
    since: '2025-03-01',
    dpaUrl: 'https://us-carrier.example/dpa',
    confirmed: false,
  }
}

/** Three carriers in region eu: two EU-only, one processing in the USA under SCCs, plus the loopback peer. */
export function testCarriersConfig(): CarriersConfig {
  return defineConfig({
    announcementNoticeDays: 30,
    regions: {
      eu: {
        carriers: {
          local: carriers.local({ port: 5070 }),
          eu_alpha: carriers.generic({
            label: 'EU Alpha',
            profile: euCarrierProfile(),
            subProcessor: euSubProcessor('EU Alpha GmbH'),
          }),
          eu_beta: carriers.generic({
            label: 'EU Beta',
            profile: euCarrierProfile({ hosts: ['sip.beta.example'] }),
            subProcessor: euSubProcessor('EU Beta GmbH'),
          }),
          us_gamma: carriers.generic({
            label: 'US Gamma',
            profile: euCarrierProfile({
              hosts: ['sip.gamma.example'],
              auth: { method: 'ip', sourceAddresses: ['192.0.2.1'] },
            }),
            subProcessor: usSubProcessor('US Gamma Inc.'),
          }),
        },
        emergencyCarriers: ['eu_alpha'],
      },
    },
    nonCarrierSubProcessors: [],
  })
}

/** Swaps the app's carriers for the test config; returns a restore function for `cleanup`. */
export async function fakeCarriers(config: CarriersConfig = testCarriersConfig()) {
  const manager = await app.container.make(CarrierManager)
  manager.fake(config)
  return () => manager.restore()
}
