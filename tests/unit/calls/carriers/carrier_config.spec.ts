import { test } from '@japa/runner'
import CarrierConfigError from '#calls/carriers/carrier_config_error'
import CarrierManager from '#calls/carriers/carrier_manager'
import { carriers, defineConfig } from '#calls/carriers/define_config'
import {
  mayActivate,
  validateCarrierPlugin,
  validateNonCarrierSubProcessor,
} from '#calls/carriers/carrier_validator'
import { mailProviderSubProcessor } from '#calls/carriers/mail_provider'
import type { CarrierPlugin, SubProcessorMetadata, TrunkProfile } from '#calls/carriers/types'
import {
  euCarrierProfile,
  euSubProcessor,
  testCarriersConfig,
  usSubProcessor,
} from '#tests/support/carriers'

function plugin(
  profile: TrunkProfile,
  subProcessor: SubProcessorMetadata | null,
  developmentOnly = false
): CarrierPlugin {
  return {
    kind: 'test',
    profile,
    subProcessor,
    developmentOnly,
    health: () => ({ options: 'unknown', registration: 'unknown', checkedAt: null }),
    close: async () => {},
  }
}

async function problemOf(
  candidate: CarrierPlugin,
  context = { production: false, requireCredentials: true }
) {
  try {
    await validateCarrierPlugin('acme', candidate, context)
  } catch (error) {
    if (error instanceof CarrierConfigError)
      return { carrier: error.carrier, field: error.field, message: error.message }
    throw error
  }
  return null
}

test.group('Carrier config validation', () => {
  test('a complete EU trunk and a US trunk with SCCs pass', async ({ assert }) => {
    assert.isNull(await problemOf(plugin(euCarrierProfile(), euSubProcessor())))
    assert.isNull(await problemOf(plugin(euCarrierProfile(), usSubProcessor())))
  })

  test('a missing or wrong field is named with the carrier', async ({ assert }) => {
    const noPort: Partial<TrunkProfile> = euCarrierProfile()
    delete noPort.port
    assert.deepInclude(await problemOf(plugin(noPort as TrunkProfile, euSubProcessor())), {
      carrier: 'acme',
      field: 'profile.port',
    })
    assert.deepInclude(
      await problemOf(plugin(euCarrierProfile({ transport: 'sctp' as any }), euSubProcessor())),
      {
        field: 'profile.transport',
      }
    )
    assert.deepInclude(
      await problemOf(plugin(euCarrierProfile({ codecs: ['G729' as any] }), euSubProcessor())),
      {
        field: 'profile.codecs.0',
      }
    )
    const badUrl = { ...euSubProcessor(), dpaUrl: 'http://insecure.example/dpa' }
    assert.deepInclude(await problemOf(plugin(euCarrierProfile(), badUrl)), {
      field: 'subProcessor.dpaUrl',
    })
    const noModule = {
      ...usSubProcessor(),
      transfers: [{ country: 'US', mechanism: 'scc', reference: 'x' }],
    } as any
    assert.deepInclude(await problemOf(plugin(euCarrierProfile(), noModule)), {
      field: 'subProcessor.transfers.0.module',
    })
    const problem = await problemOf(plugin(noPort as TrunkProfile, euSubProcessor()))
    assert.match(problem!.message, /Carrier "acme".*profile\.port/)
  })

  test('processing outside the EU/EEA without a mechanism for that country does not load', async ({
    assert,
  }) => {
    const undeclared = { ...usSubProcessor(), transfers: [] }
    const problem = await problemOf(plugin(euCarrierProfile(), undeclared))
    assert.deepInclude(problem, { field: 'subProcessor.transfers' })
    assert.match(problem!.message, /US \(outside the EU\/EEA\)/)
    const wrongCountry = {
      ...usSubProcessor(),
      transfers: [{ country: 'GB', mechanism: 'adequacy' as const, reference: '2021/1772' }],
    }
    assert.deepInclude(await problemOf(plugin(euCarrierProfile(), wrongCountry)), {
      field: 'subProcessor.transfers',
    })
  })

  test('SDES-SRTP only over TLS', async ({ assert }) => {
    const problem = await problemOf(
      plugin(euCarrierProfile({ transport: 'udp', srtp: 'sdes' }), euSubProcessor())
    )
    assert.deepInclude(problem, { field: 'profile.srtp' })
    assert.isNull(
      await problemOf(
        plugin(euCarrierProfile({ transport: 'udp', srtp: 'none' }), euSubProcessor())
      )
    )
  })

  test('registration credentials are required only for enabled carriers', async ({ assert }) => {
    const noPassword = euCarrierProfile({
      auth: { method: 'registration', username: 'u', password: '', expiresSeconds: 600 },
    })
    assert.deepInclude(await problemOf(plugin(noPassword, euSubProcessor())), {
      field: 'profile.auth.password',
    })
    assert.isNull(
      await problemOf(plugin(noPassword, euSubProcessor()), {
        production: false,
        requireCredentials: false,
      })
    )
  })

  test('a development carrier is refused in production, and a real one must declare its sub-processor', async ({
    assert,
  }) => {
    const local = plugin(euCarrierProfile({ hosts: ['127.0.0.1'] }), null, true)
    assert.isNull(await problemOf(local))
    assert.deepInclude(await problemOf(local, { production: true, requireCredentials: true }), {
      field: 'kind',
    })
    assert.deepInclude(await problemOf(plugin(euCarrierProfile(), null)), { field: 'subProcessor' })
    assert.deepInclude(
      await problemOf(plugin(euCarrierProfile({ hosts: ['10.0.0.1'] }), null, true)),
      { field: 'profile.hosts' }
    )
  })
})

test.group('Carrier manager', () => {
  test('validates the whole test config, caches one instance per name, fake() and restore() swap it', async ({
    assert,
  }) => {
    const manager = new CarrierManager(testCarriersConfig(), { production: false })
    await manager.validateAll()
    assert.deepEqual(
      manager.entries().map((entry) => entry.name),
      ['local', 'eu_alpha', 'eu_beta', 'us_gamma']
    )
    assert.strictEqual(await manager.use('eu_alpha'), await manager.use('eu_alpha'))
    assert.equal((await manager.use('local')).kind, 'local')

    manager.fake(
      defineConfig({
        regions: {
          eu: {
            carriers: {
              only: carriers.generic({
                profile: euCarrierProfile(),
                subProcessor: euSubProcessor(),
              }),
            },
          },
        },
      })
    )
    assert.deepEqual(
      manager.entries().map((entry) => entry.name),
      ['only']
    )
    manager.restore()
    assert.lengthOf(manager.entries(), 4)
  })

  test('credential overrides from the store win over config', async ({ assert }) => {
    const manager = new CarrierManager(testCarriersConfig(), {
      production: false,
      credentials: async (name) => (name === 'eu_alpha' ? { password: 'from-the-vault' } : {}),
    })
    const alpha = await manager.use('eu_alpha')
    assert.equal(
      alpha.profile.auth.method === 'registration' && alpha.profile.auth.password,
      'from-the-vault'
    )
    const beta = await manager.use('eu_beta')
    assert.equal(
      beta.profile.auth.method === 'registration' && beta.profile.auth.password,
      'trunk-pass'
    )
  })

  test('the local carrier is refused in production; names are unique across regions', async ({
    assert,
  }) => {
    const production = new CarrierManager(testCarriersConfig(), { production: true })
    await assert.rejects(() => production.validateAll(), /Carrier "local" is misconfigured: kind/)

    const twice = new CarrierManager(
      defineConfig({
        regions: {
          eu: {
            carriers: {
              same: carriers.generic({
                profile: euCarrierProfile(),
                subProcessor: euSubProcessor(),
              }),
            },
          },
          us: {
            carriers: {
              same: carriers.generic({
                profile: euCarrierProfile(),
                subProcessor: usSubProcessor(),
              }),
            },
          },
        },
      }),
      { production: false }
    )
    await assert.rejects(() => twice.validateAll(), /Carrier "same".*already used in region "eu"/)
  })

  test('the shipped config/carriers.ts validates, with both real-world carriers disabled and unconfirmed', async ({
    assert,
  }) => {
    const { default: shipped } = await import('#config/carriers')
    const manager = new CarrierManager(shipped, { production: false })
    await manager.validateAll()
    const sipgate = manager.entry('sipgate_trunking')!
    const twilio = manager.entry('twilio_elastic')!
    assert.isFalse(sipgate.configEnabled)
    assert.isFalse(twilio.configEnabled)
    const sipgatePlugin = await manager.use('sipgate_trunking')
    const twilioPlugin = await manager.use('twilio_elastic')
    assert.isFalse(sipgatePlugin.subProcessor!.confirmed)
    assert.isFalse(twilioPlugin.subProcessor!.confirmed)
    assert.deepEqual(sipgatePlugin.subProcessor!.transfers, [])
    assert.deepInclude(twilioPlugin.subProcessor!.transfers[0], {
      country: 'US',
      mechanism: 'scc',
      module: 3,
    })
    assert.equal((await manager.use('local')).profile.hosts[0], '127.0.0.1')
    assert.isNull((await manager.use('local')).subProcessor)
  })

  test('a company outside the EU/EEA needs SCCs even when it processes inside: a product rule, and the message says so', async ({
    assert,
  }) => {
    const insideOnly = {
      ...usSubProcessor(),
      processing: {
        signalling: [{ country: 'DE', dataCentre: 'Frankfurt (DE)' }],
        media: [{ country: 'DE', dataCentre: 'Frankfurt (DE)' }],
        metadata: [{ country: 'IE', dataCentre: 'Dublin (IE)' }],
      },
    }
    // With SCCs for its country it passes
    assert.isNull(await problemOf(plugin(euCarrierProfile(), insideOnly)))
    // Without any mechanism, or with an adequacy decision only, it does not
    for (const transfers of [
      [],
      [{ country: 'US', mechanism: 'adequacy' as const, reference: 'EU-US DPF 2023/1795' }],
    ]) {
      const problem = await problemOf(plugin(euCarrierProfile(), { ...insideOnly, transfers }))
      assert.deepInclude(problem, { field: 'subProcessor.transfers' })
      assert.match(problem!.message, /sits in US \(outside the EU\/EEA\)/)
      assert.match(problem!.message, /SCCs \(Art\. 46 GDPR\) must be declared for US/)
      assert.match(problem!.message, /adequacy decision \(Art\. 45\) would suffice legally/)
      assert.match(problem!.message, /product rule/)
    }
    // The same for a non-carrier sub-processor whose registered address is outside (CH)
    const swiss = {
      ...euSubProcessor('Mail AG'),
      key: 'mail',
      service: { de: 'E-Mail', en: 'E-mail' },
      legalEntity: {
        name: 'Mail AG',
        address: { street: 'Bahnhofstr. 1', postalCode: '8001', city: 'Zürich', country: 'CH' },
      },
      entityCountry: 'CH',
      transfers: [{ country: 'CH', mechanism: 'adequacy' as const, reference: '2000/518/EC' }],
    }
    await assert.rejects(
      () => validateNonCarrierSubProcessor(swiss),
      /Carrier "mail".*sits in CH.*product rule/
    )
    await validateNonCarrierSubProcessor({
      ...swiss,
      transfers: [{ country: 'CH', mechanism: 'scc', module: 3, reference: 'DPA Annex' }],
    })
  })

  test('production: an enabled carrier or a sub-processor with unconfirmed legal metadata is refused, and cannot be activated', async ({
    assert,
  }) => {
    const unconfirmed = plugin(euCarrierProfile(), { ...euSubProcessor(), confirmed: false })
    const production = { production: true, requireCredentials: true }
    const problem = await problemOf(unconfirmed, production)
    assert.deepInclude(problem, { field: 'subProcessor.confirmed' })
    assert.match(problem!.message, /legal metadata is unconfirmed: in production/)
    // Confirmed passes; outside production and while disabled in config it may wait
    assert.isNull(await problemOf(plugin(euCarrierProfile(), euSubProcessor()), production))
    assert.isNull(await problemOf(unconfirmed))
    assert.isNull(await problemOf(unconfirmed, { production: true, requireCredentials: false }))
    // Activation (lifecycle)
    assert.isFalse(mayActivate(unconfirmed, true))
    assert.isTrue(mayActivate(unconfirmed, false))
    assert.isTrue(mayActivate(plugin(euCarrierProfile(), euSubProcessor()), true))

    const hosting = {
      ...euSubProcessor('Hosting GmbH'),
      key: 'hosting',
      service: { de: 'Hosting', en: 'Hosting' },
      confirmed: false,
    }
    await validateNonCarrierSubProcessor(hosting)
    await assert.rejects(
      () => validateNonCarrierSubProcessor(hosting, { production: true }),
      /Carrier "hosting" is misconfigured: confirmed.*unconfirmed/
    )
    await validateNonCarrierSubProcessor({ ...hosting, confirmed: true }, { production: true })

    // The shipped config: its hosting entry stops a production boot until the operator confirms it
    const { default: shipped } = await import('#config/carriers')
    const withoutLocal = {
      ...shipped,
      regions: {
        eu: {
          ...shipped.regions.eu,
          carriers: Object.fromEntries(
            Object.entries(shipped.regions.eu.carriers).filter(([name]) => name !== 'local')
          ),
        },
      },
    }
    await assert.rejects(
      () => new CarrierManager(withoutLocal, { production: true }).validateAll(),
      /"hosting" is misconfigured: confirmed/
    )
    // ... and starts once HOSTING_METADATA_CONFIRMED=true (what bin/production-check sets)
    await new CarrierManager(
      {
        ...withoutLocal,
        nonCarrierSubProcessors: shipped.nonCarrierSubProcessors.map((entry) => ({
          ...entry,
          confirmed: true,
        })),
      },
      { production: true }
    ).validateAll()
  })

  test('MAIL_MAILER=smtp makes the mail provider a sub-processor, validated like the others', async ({
    assert,
  }) => {
    assert.isNull(mailProviderSubProcessor({ mailer: 'file', name: 'Ignored' }))
    assert.isNull(mailProviderSubProcessor({ mailer: undefined }))
    assert.throws(
      () => mailProviderSubProcessor({ mailer: 'smtp', country: 'DE' }),
      /MAIL_PROVIDER_NAME.*MAIL_MAILER=smtp sends every mail through a sub-processor/
    )
    const eu = mailProviderSubProcessor({
      mailer: 'smtp',
      name: 'Mailversand GmbH',
      country: 'de',
      address: 'Musterweg 5, 10115 Berlin',
      dpaUrl: 'https://mail.example/avv',
      confirmed: true,
    })!
    assert.deepInclude(eu, { key: 'mail', entityCountry: 'DE', confirmed: true, transfers: [] })
    assert.deepEqual(eu.legalEntity.address, {
      street: 'Musterweg 5',
      postalCode: '10115',
      city: 'Berlin',
      country: 'DE',
    })
    await validateNonCarrierSubProcessor(eu, { production: true })

    const us = {
      mailer: 'smtp' as const,
      name: 'Mail Inc.',
      country: 'US',
      address: '1 Market St, 94105 San Francisco',
      processingCountry: 'DE',
      dpaUrl: 'https://mail.example/dpa',
    }
    // A US provider sending from Germany: SCCs needed (product rule)
    await assert.rejects(
      () => validateNonCarrierSubProcessor(mailProviderSubProcessor(us)!),
      /"mail".*sits in US.*product rule/
    )
    const withSccs = mailProviderSubProcessor({ ...us, sccReference: 'DPA 2025, SCCs module 3' })!
    assert.deepEqual(withSccs.transfers, [
      { country: 'US', mechanism: 'scc', module: 3, reference: 'DPA 2025, SCCs module 3' },
    ])
    await validateNonCarrierSubProcessor(withSccs)
    // Unconfirmed (the default): refused in production
    await assert.rejects(
      () => validateNonCarrierSubProcessor(withSccs, { production: true }),
      /"mail" is misconfigured: confirmed/
    )
  })
})
