import app from '@adonisjs/core/services/app'
import env from '#start/env'
import { carriers, defineConfig, type CarriersConfig } from '#calls/carriers/define_config'
import { mailProviderSubProcessor } from '#calls/carriers/mail_provider'

/**
 * The trunks we may route over, per region. The database holds their state (enabled, lifecycle,
 * encrypted credential overrides); the public transparency pages are generated from this file.
 *
 * sipgate_trunking and twilio_elastic ship DISABLED with `confirmed: false` legal metadata:
 * an operator checks connection parameters and metadata against the signed contracts first.
 */
const production = defineConfig({
  announcementNoticeDays: 30,
  regions: {
    eu: {
      carriers: {
        // The loopback peer exists outside production only; the provider refuses it in production anyway.
        ...(app.inProduction
          ? {}
          : {
              local: carriers.local({
                port: env.get('LOCAL_CARRIER_PORT', 5070),
                transport: env.get('LOCAL_CARRIER_TRANSPORT'),
                srtp: env.get('LOCAL_CARRIER_SRTP'),
                label: 'Local SIP peer',
              }),
            }),
        sipgate_trunking: carriers.sipgateTrunking({
          enabled: false,
          label: 'sipgate trunking',
          username: env.get('SIPGATE_TRUNK_USERNAME', ''),
          password: env.get('SIPGATE_TRUNK_PASSWORD', ''),
        }),
        twilio_elastic: carriers.twilioElastic({
          enabled: false,
          label: 'Twilio Elastic SIP Trunking',
          terminationName: env.get('TWILIO_TERMINATION_NAME', 'fluffycall'),
          edge: 'frankfurt',
          sourceAddresses: (env.get('TWILIO_SOURCE_ADDRESSES') || '192.0.2.10')
            .split(',')
            .map((entry) => entry.trim()),
        }),
      },
      emergencyCarriers: ['sipgate_trunking'],
    },
  },
  nonCarrierSubProcessors: [
    {
      key: 'hosting',
      service: { de: 'Hosting (Server, Datenbank)', en: 'Hosting (servers, database)' },
      legalEntity: {
        name: 'Hetzner Online GmbH',
        address: {
          street: 'Industriestr. 25',
          postalCode: '91710',
          city: 'Gunzenhausen',
          country: 'DE',
        },
      },
      entityCountry: 'DE',
      processing: {
        signalling: [{ country: 'DE', dataCentre: 'Falkenstein / Nürnberg (DE)' }],
        media: [{ country: 'DE', dataCentre: 'Falkenstein / Nürnberg (DE)' }],
        metadata: [{ country: 'DE', dataCentre: 'Falkenstein / Nürnberg (DE)' }],
      },
      purpose: {
        de: 'Betrieb der Server, auf denen FluffyCall läuft',
        en: 'Running the servers FluffyCall runs on',
      },
      dataCategories: ['account_data', 'call_metadata', 'ip_addresses', 'call_content_in_transit'],
      transfers: [],
      since: '2025-01-01',
      dpaUrl: 'https://www.hetzner.com/legal/privacy-policy',
      // Production refuses to boot with unconfirmed metadata: the operator checks it against the
      // signed contract and sets HOSTING_METADATA_CONFIRMED=true
      confirmed: env.get('HOSTING_METADATA_CONFIRMED', false),
    },
    // With MAIL_MAILER=smtp the mail provider is a sub-processor too
    ...[
      mailProviderSubProcessor({
        mailer: env.get('MAIL_MAILER'),
        name: env.get('MAIL_PROVIDER_NAME'),
        country: env.get('MAIL_PROVIDER_COUNTRY'),
        address: env.get('MAIL_PROVIDER_ADDRESS'),
        processingCountry: env.get('MAIL_PROVIDER_PROCESSING_COUNTRY'),
        dpaUrl: env.get('MAIL_PROVIDER_DPA_URL'),
        since: env.get('MAIL_PROVIDER_SINCE'),
        sccReference: env.get('MAIL_PROVIDER_SCC_REFERENCE'),
        confirmed: env.get('MAIL_PROVIDER_CONFIRMED', false),
      }),
    ].filter((entry) => entry !== null),
  ],
})

/**
 * Tests only: a fixture under tests/fixtures/carriers/ replaces this config (the boot test
 * proves that a broken carrier config stops the app). Ignored outside NODE_ENV=test.
 */
async function testFixture(): Promise<CarriersConfig | null> {
  const fixture = env.get('CARRIERS_CONFIG_FIXTURE')
  if (!fixture || env.get('NODE_ENV') !== 'test' || !/^[a-z_]+$/.test(fixture)) return null
  return (await import(`#tests/fixtures/carriers/${fixture}`)).default
}

export default (await testFixture()) ?? production
