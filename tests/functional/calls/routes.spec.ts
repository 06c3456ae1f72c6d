import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import CarrierRoute from '#calls/models/carrier_route'
import { carriers, defineConfig } from '#calls/carriers/define_config'
import CarrierLifecycleService from '#calls/services/carrier_lifecycle_service'
import RoutingService from '#calls/services/routing_service'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import {
  euCarrierProfile,
  euSubProcessor,
  fakeCarriers,
  testCarriersConfig,
} from '#tests/support/carriers'
import { enableTwoFactor } from '#tests/support/two_factor'

async function staff(role: 'superadmin' | 'support' = 'superadmin') {
  const user = await makeUser(role)
  await enableTwoFactor(user)
  return user
}

/** The test carriers plus a second region "us" with its own carrier. */
function twoRegions() {
  const config = testCarriersConfig()
  return defineConfig({
    ...config,
    regions: {
      ...config.regions,
      us: {
        carriers: {
          us_delta: carriers.generic({
            label: 'US Delta',
            profile: euCarrierProfile({ hosts: ['sip.delta.example'] }),
            subProcessor: euSubProcessor('Delta GmbH'),
          }),
        },
      },
    },
  })
}

test.group('Route editing', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => fakeCarriers(twoRegions()))

  test('staff add, edit and delete routes; each change is audited with before and after', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const mark = await auditMark()
    const home = await client.get('/admin/routes').loginAs(admin).redirects(0)
    assert.equal(home.header('location'), '/admin/routes/eu')

    const created = await client
      .post('/admin/routes/eu')
      .form({ prefix: '4930', carrier: 'eu_alpha', priority: '1', weight: '100' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    created.assertFlashMessage('notice', 'Routen gespeichert.')
    const route = await CarrierRoute.query()
      .where({ region: 'eu', prefix: '4930', carrier_name: 'eu_alpha' })
      .firstOrFail()
    const createdEntry = await auditSince(mark).where('action', 'route.created').firstOrFail()
    assert.equal(createdEntry.actorId, admin.id)
    assert.deepEqual(createdEntry.details, {
      region: 'eu',
      after: { prefix: '4930', carrier: 'eu_alpha', priority: 1, weight: 100 },
    })

    const page = await client.get('/admin/routes/eu').loginAs(admin)
    page.assertStatus(200)
    assert.match(page.text(), /data-prefix="4930" data-carrier="eu_alpha"/)
    ;(await client.get(`/admin/routes/eu/${route.id}/edit`).loginAs(admin)).assertStatus(200)

    const updated = await client
      .put(`/admin/routes/eu/${route.id}`)
      .form({ prefix: '49', carrier: 'eu_beta', priority: '2', weight: '50' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    updated.assertFlashMessage('notice', 'Routen gespeichert.')
    await route.refresh()
    assert.deepInclude(route.serialize(), {
      prefix: '49',
      carrierName: 'eu_beta',
      priority: 2,
      weight: 50,
    })
    const updatedEntry = await auditSince(mark).where('action', 'route.updated').firstOrFail()
    assert.deepEqual(updatedEntry.details, {
      region: 'eu',
      before: { prefix: '4930', carrier: 'eu_alpha', priority: 1, weight: 100 },
      after: { prefix: '49', carrier: 'eu_beta', priority: 2, weight: 50 },
    })

    const deleted = await client
      .delete(`/admin/routes/eu/${route.id}`)
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    deleted.assertStatus(302)
    assert.isNull(await CarrierRoute.find(route.id))
    assert.lengthOf(await auditSince(mark).where('action', 'route.deleted'), 1)
  })

  test('routes edited here are what the router uses: priorities decide the failover order', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const lifecycle = await app.container.make(CarrierLifecycleService)
    for (const name of ['eu_alpha', 'eu_beta']) {
      await lifecycle.announce(name, admin, '127.0.0.1', DateTime.utc())
      await lifecycle.activate(name, admin, '127.0.0.1')
    }
    const add = (form: Record<string, string>) =>
      client.post('/admin/routes/eu').form(form).withCsrfToken().loginAs(admin).redirects(0)
    await add({ prefix: '', carrier: 'eu_beta', priority: '1', weight: '100' })
    await add({ prefix: '', carrier: 'eu_alpha', priority: '2', weight: '100' })
    const routing = await app.container.make(RoutingService)
    const company = await makeCompany('active')
    assert.deepInclude(await routing.resolve(company, '+49 30 1234567'), {
      prefix: '',
      carriers: ['eu_beta', 'eu_alpha'],
    })

    const beta = await CarrierRoute.query()
      .where({ region: 'eu', prefix: '', carrier_name: 'eu_beta' })
      .firstOrFail()
    await client
      .put(`/admin/routes/eu/${beta.id}`)
      .form({ prefix: '', carrier: 'eu_beta', priority: '3', weight: '100' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.deepInclude(await routing.resolve(company, '+49 30 1234567'), {
      carriers: ['eu_alpha', 'eu_beta'],
    })
  })

  test('prefix must be E.164 digits, the carrier one of the region, no carrier twice on a prefix', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const add = (form: Record<string, string>) =>
      client.post('/admin/routes/eu').form(form).withCsrfToken().loginAs(admin).redirects(0)

    for (const prefix of ['+49', '49a', '1234567890123456']) {
      const response = await add({ prefix, carrier: 'eu_alpha', priority: '1', weight: '100' })
      assert.deepEqual(
        (response.flashMessages().inputErrorsBag as Record<string, string[]>).prefix,
        ['Nur Ziffern, höchstens 15 (ohne +); leer für die Standardroute.'],
        prefix
      )
    }
    const badNumbers = await add({ prefix: '49', carrier: 'eu_alpha', priority: '0', weight: 'x' })
    assert.properties(badNumbers.flashMessages().inputErrorsBag, ['priority', 'weight'])

    const otherRegion = await add({
      prefix: '49',
      carrier: 'us_delta',
      priority: '1',
      weight: '100',
    })
    assert.equal(
      otherRegion.flashMessage('errorsBag.carrier'),
      'Bitte einen Carrier dieser Region wählen.'
    )
    const unknown = await add({ prefix: '49', carrier: 'nobody', priority: '1', weight: '100' })
    assert.equal(
      unknown.flashMessage('errorsBag.carrier'),
      'Bitte einen Carrier dieser Region wählen.'
    )

    await add({ prefix: '', carrier: 'eu_alpha', priority: '1', weight: '100' })
    const twice = await add({ prefix: '', carrier: 'eu_alpha', priority: '2', weight: '10' })
    assert.equal(
      twice.flashMessage('errorsBag.prefix'),
      'Dieser Carrier ist für dieses Präfix schon eingetragen.'
    )
    assert.lengthOf(
      await CarrierRoute.query().where('region', 'eu'),
      1,
      'only the default route was stored'
    )

    // The us region takes its own carrier
    const us = await client
      .post('/admin/routes/us')
      .form({ prefix: '1', carrier: 'us_delta', priority: '1', weight: '100' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    us.assertFlashMessage('notice', 'Routen gespeichert.')
    ;(await client.get('/admin/routes/mars').loginAs(admin)).assertStatus(404)
    ;(
      await client
        .post('/admin/routes/mars')
        .form({ prefix: '1', carrier: 'us_delta', priority: '1', weight: '1' })
        .withCsrfToken()
        .loginAs(admin)
        .redirects(0)
    ).assertStatus(404)
  })

  test('staff without carriers.manage get 403', async ({ client }) => {
    const support = await staff('support')
    ;(await client.get('/admin/routes/eu').loginAs(support)).assertStatus(403)
    const post = await client
      .post('/admin/routes/eu')
      .form({ prefix: '49', carrier: 'eu_alpha', priority: '1', weight: '100' })
      .withCsrfToken()
      .loginAs(support)
      .redirects(0)
    post.assertStatus(403)
  })
})
