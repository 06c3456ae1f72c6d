import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import CarrierManager from '#calls/carriers/carrier_manager'
import { carriers, defineConfig } from '#calls/carriers/define_config'
import { validateCarrierPlugin } from '#calls/carriers/carrier_validator'
import CarrierSources from '#calls/b2bua/carrier_sources'
import { buildB2bua } from '#calls/b2bua/b2bua_factory'
import { euCarrierProfile, euSubProcessor, fakeCarriers } from '#tests/support/carriers'
import GenericTrunk from '#plugins/carriers/generic/main'

/**
 * Carriers' signalling sources: a carrier is recognised by its hosts' addresses and by the
 * addresses and CIDRs its profile declares, and the SIP transport gives all of them the
 * carriers' flood budget once the B2BUA starts.
 */
function config() {
  return defineConfig({
    announcementNoticeDays: 30,
    regions: {
      eu: {
        carriers: {
          first: carriers.local({ port: 5999, signallingSources: ['127.0.0.20/30'] }),
          second: carriers.local({ port: 5998 }),
        },
        emergencyCarriers: ['first'],
      },
    },
    nonCarrierSubProcessors: [],
  })
}

test.group('Carrier signalling sources', (group) => {
  group.each.setup(() => fakeCarriers(config()))

  test('a source is its carrier by host address or declared range, else nobody', async ({
    assert,
  }) => {
    const sources = new CarrierSources(await app.container.make(CarrierManager))
    assert.equal(await sources.carrierAt('127.0.0.21'), 'first')
    assert.equal(
      await sources.carrierAt('127.0.0.1'),
      'first',
      'both loopback carriers: the first listed wins'
    )
    assert.isNull(await sources.carrierAt('127.0.0.24'))
    assert.includeMembers([...sources.entries], ['127.0.0.20/30', '127.0.0.1'])
  })

  test('another carriers configuration (a fake, its restore) is read at once, not after the cache age', async ({
    assert,
    cleanup,
  }) => {
    const sources = new CarrierSources(await app.container.make(CarrierManager))
    assert.equal(await sources.carrierAt('127.0.0.1'), 'first')
    const restore = await fakeCarriers(
      defineConfig({
        announcementNoticeDays: 30,
        regions: {
          eu: { carriers: { renamed: carriers.local({ port: 5997 }) }, emergencyCarriers: [] },
        },
        nonCarrierSubProcessors: [],
      })
    )
    cleanup(restore)
    // The B2BUA asks the manager for the profile of the name it gets: an old name is unknown
    assert.equal(await sources.carrierAt('127.0.0.1'), 'renamed')
  })

  test('the B2BUA gives the carriers their flood budget when it starts', async ({ assert }) => {
    const stack = await app.container.make('sip.stack')
    stack.layer.setTrustedSources([])
    assert.isFalse(stack.layer.isTrustedSource('127.0.0.22'))
    const b2bua = await buildB2bua(app.container)
    b2bua.start()
    const deadline = Date.now() + 5000
    while (!stack.layer.isTrustedSource('127.0.0.22') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20))
    assert.isTrue(stack.layer.isTrustedSource('127.0.0.22'))
    assert.isFalse(stack.layer.isTrustedSource('127.0.0.30'))
    ;(await app.container.make('calls.b2bua')).start()
  })

  test('a declared source that is no address or CIDR stops the boot, naming the field', async ({
    assert,
  }) => {
    const plugin = new GenericTrunk({
      profile: euCarrierProfile({ signallingSources: ['192.0.2.0/24', '192.0.2.300'] }),
      subProcessor: euSubProcessor(),
    })
    await assert.rejects(
      () => validateCarrierPlugin('acme', plugin, { production: true, requireCredentials: false }),
      /profile\.signallingSources\.1/
    )
    const ok = new GenericTrunk({
      profile: euCarrierProfile({ signallingSources: ['192.0.2.0/24', '2001:db8::/32'] }),
      subProcessor: euSubProcessor(),
    })
    await validateCarrierPlugin('acme', ok, { production: true, requireCredentials: false })
  })
})
