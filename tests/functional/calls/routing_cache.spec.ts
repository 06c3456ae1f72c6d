import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import CarrierRoute from '#calls/models/carrier_route'
import CarrierState from '#calls/models/carrier_state'
import CarrierObjection from '#calls/models/carrier_objection'
import RoutingService from '#calls/services/routing_service'
import { routingChanged, routingVersion, shareRoutingChanges } from '#calls/routing/routing_changes'
import { makeCompany } from '#tests/support/accounts'
import { loopbackCarriers } from '#tests/support/calls'
import { connectRedis, redisConfigured } from '#tests/support/redis'
import { logsOf } from '#tests/support/log_file'

/**
 * RoutingService keeps the routing tables between calls (a call setup reads none of them): every
 * change through the models reloads them, a change the models never saw does not.
 */
test.group('Routing tables kept between calls', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => loopbackCarriers({ alpha: 5071, beta: 5072 }))

  const dialled = '+49 30 1234567'

  test('a route saved through its model reaches the next call; a raw update does not', async ({
    assert,
  }) => {
    const routing = await app.container.make(RoutingService)
    const company = await makeCompany('active')
    assert.deepInclude(await routing.resolve(company, dialled), { carriers: ['alpha', 'beta'] })

    // Behind the models' back: the kept table is used (the proof that there is one).
    await db.from('carrier_routes').where('carrier_name', 'alpha').update({ priority: 3 })
    assert.deepInclude(await routing.resolve(company, dialled), { carriers: ['alpha', 'beta'] })

    const beta = await CarrierRoute.findByOrFail('carrierName', 'beta')
    beta.priority = 4
    await beta.save()
    assert.deepInclude(await routing.resolve(company, dialled), { carriers: ['alpha', 'beta'] })
    const alpha = await CarrierRoute.findByOrFail('carrierName', 'alpha')
    alpha.priority = 5
    await alpha.save()
    assert.deepInclude(await routing.resolve(company, dialled), { carriers: ['beta', 'alpha'] })

    await beta.delete()
    assert.deepInclude(await routing.resolve(company, dialled), { carriers: ['alpha'] })
  })

  test('a carrier disabled, or objected to by the company, is left out from the next call on', async ({
    assert,
  }) => {
    const routing = await app.container.make(RoutingService)
    const company = await makeCompany('active')
    const other = await makeCompany('active')
    assert.deepInclude(await routing.resolve(company, dialled), { carriers: ['alpha', 'beta'] })

    await CarrierObjection.create({ companyId: company.id, carrierName: 'alpha' })
    assert.deepInclude(await routing.resolve(company, dialled), { carriers: ['beta'] })
    assert.deepInclude(await routing.resolve(other, dialled), { carriers: ['alpha', 'beta'] })

    const beta = await CarrierState.findByOrFail('carrierName', 'beta')
    beta.enabled = false
    await beta.save()
    assert.deepInclude(await routing.resolve(other, dialled), { carriers: ['alpha'] })
  })

  test('a route whose carriers are gone refuses with a warning naming them, not the number', async ({
    assert,
  }) => {
    const routing = await app.container.make(RoutingService)
    const company = await makeCompany('active')
    await CarrierRoute.query().delete()
    await CarrierRoute.createMany([
      { region: 'eu', prefix: '4930', carrierName: 'removed', priority: 1, weight: 1 },
      { region: 'eu', prefix: '4930', carrierName: 'beta', priority: 2, weight: 1 },
    ])
    const beta = await CarrierState.findByOrFail('carrierName', 'beta')
    beta.enabled = false
    await beta.save()

    let resolution: Awaited<ReturnType<RoutingService['resolve']>> | undefined
    const logs = await logsOf(async () => (resolution = await routing.resolve(company, dialled)))
    assert.deepInclude(resolution, { outcome: 'refused', reason: 'no_active_carrier' })
    const warning = logs.find(
      (line) => line.msg === 'call refused: no active carrier for its route'
    )
    assert.exists(warning, 'the refusal is logged')
    assert.deepInclude(warning, {
      region: 'eu',
      prefixes: ['4930'],
      carriers: { removed: 'not configured', beta: 'not active' },
    })
    assert.notInclude(JSON.stringify(logs), '1234567', 'the dialled number is not logged')
  })

  test('a change rolled back is forgotten, not kept', async ({ assert }) => {
    const routing = await app.container.make(RoutingService)
    const company = await makeCompany('active')
    const trx = await db.transaction()
    const alpha = await CarrierRoute.query({ client: trx })
      .where('carrier_name', 'alpha')
      .firstOrFail()
    alpha.priority = 9
    await alpha.save()
    assert.deepInclude(await routing.resolve(company, dialled), { carriers: ['beta', 'alpha'] })
    await trx.rollback()
    assert.deepInclude(await routing.resolve(company, dialled), { carriers: ['alpha', 'beta'] })
  })
})

test.group('Routing changes across nodes (Redis)', () => {
  if (!redisConfigured) return

  test('a change is published to the other nodes, and theirs reload this one', async ({
    assert,
    cleanup,
  }) => {
    const other = await connectRedis()
    cleanup(() => other.disconnect())
    const listener = await connectRedis()
    cleanup(() => listener.disconnect())
    const stop = shareRoutingChanges(await app.container.make('redis'), {
      prefix: 'routing-test:',
      nodeId: 'this-node',
    })
    cleanup(stop)

    const published = new Promise<string>((resolve) => {
      listener.on('message', (_channel, message) => resolve(message))
    })
    await listener.subscribe('routing-test:calls:routing-changed')
    routingChanged()
    assert.equal(await published, 'this-node')

    const before = routingVersion()
    const deadline = Date.now() + 5000
    while (routingVersion() === before && Date.now() < deadline) {
      await other.publish('routing-test:calls:routing-changed', 'other-node')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.isAbove(routingVersion(), before, 'a change announced by another node')
  })
})
