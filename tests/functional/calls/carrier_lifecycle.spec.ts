import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import CarrierRoute from '#calls/models/carrier_route'
import CompanyNotice from '#calls/models/company_notice'
import CarrierObjection from '#calls/models/carrier_objection'
import RoutingService from '#calls/services/routing_service'
import CarrierLifecycleService, {
  CarrierLifecycleError,
} from '#calls/services/carrier_lifecycle_service'
import CarrierManager from '#calls/carriers/carrier_manager'
import CarrierDirectory from '#calls/services/carrier_directory'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { fakeCarriers, testCarriersConfig } from '#tests/support/carriers'
import { lastMailTo } from '#tests/support/mail'
import { auditMark, auditSince } from '#tests/support/audit'

async function superadmin() {
  const user = await makeUser('superadmin')
  await enableTwoFactor(user)
  return user
}

/** Puts a carrier straight into `active` through the service (announce today, then activate). */
async function activate(name: string) {
  const lifecycle = await app.container.make(CarrierLifecycleService)
  const actor = await superadmin()
  await lifecycle.announce(name, actor, '127.0.0.1', DateTime.utc())
  await lifecycle.activate(name, actor, '127.0.0.1')
}

async function publishedKeys(client: any) {
  const response = await client.get('/transparency/sub-processors.json')
  response.assertStatus(200)
  return (response.body().subProcessors as Array<{ key: string; kind: string }>)
    .filter((e) => e.kind === 'carrier')
    .map((e) => e.key)
    .sort()
}

test.group('Carrier lifecycle and the public pages', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => fakeCarriers())

  test('only active and announced carriers appear; announce shows the date, withdraw removes it', async ({
    client,
    assert,
  }) => {
    const admin = await superadmin()
    await activate('eu_alpha')
    assert.deepEqual(
      await publishedKeys(client),
      ['eu_alpha'],
      'configured but unannounced carriers and the local peer stay hidden'
    )

    const date = DateTime.utc().plus({ days: 30 }).toISODate()!
    const announced = await client
      .post('/admin/carriers/eu_beta/announce')
      .form({ effective_date: date })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    announced.assertStatus(302)
    assert.deepEqual(await publishedKeys(client), ['eu_alpha', 'eu_beta'])

    const page = await client.get('/transparency/sub-processors')
    page.assertStatus(200)
    assert.include(page.text(), 'EU Beta GmbH')
    assert.include(page.text(), `angekündigt, aktiv ab ${date}`)
    assert.include(page.text(), 'EU Alpha GmbH')
    assert.notInclude(page.text(), 'US Gamma')
    assert.notInclude(page.text(), '127.0.0.1')
    assert.notMatch(page.text(), /data-key="local"/)

    const early = await client
      .post('/admin/carriers/eu_beta/activate')
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    early.assertFlashMessage('error', 'Das angekündigte Datum ist noch nicht erreicht.')

    const withdrawn = await client
      .post('/admin/carriers/eu_beta/withdraw')
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    withdrawn.assertStatus(302)
    assert.deepEqual(await publishedKeys(client), ['eu_alpha'])
    const after = await client.get('/transparency/sub-processors')
    assert.notInclude(after.text(), 'EU Beta GmbH')

    const history = await client.get('/transparency/history')
    assert.include(history.text(), `EU Beta angekündigt, aktiv ab ${date}`)
    assert.match(history.text(), /EU Beta nicht mehr genutzt seit/)
  })

  test('announcing notifies every customer company: in-app notice and email to the privacy contact', async ({
    client,
    assert,
  }) => {
    const mark = await auditMark()
    const admin = await superadmin()
    const first = await makeCompany('active')
    const second = await makeCompany('pending')
    const ended = await makeCompany('terminated')
    await client
      .post('/admin/carriers/us_gamma/announce')
      .form({})
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    // The mails go out through the job queue
    await (await app.container.make('jobs.queue')).drain()

    for (const company of [first, second]) {
      const notice = await CompanyNotice.query()
        .where('company_id', company.id)
        .where('carrier_name', 'us_gamma')
        .firstOrFail()
      assert.equal(
        notice.effectiveAt!.toISODate(),
        DateTime.utc().plus({ days: 30 }).toISODate(),
        'default notice period: 30 days'
      )
      const mail = await lastMailTo(company.privacyContactEmail)
      assert.isNotNull(mail)
      assert.include(mail!.subject, 'US Gamma Inc.')
    }
    assert.isNull(await CompanyNotice.query().where('company_id', ended.id).first())
    const entry = await auditSince(mark)
      .where('action', 'carrier.announced')
      .where('target_id', 'us_gamma')
      .firstOrFail()
    assert.equal(entry.actorId, admin.id)

    const sccs = await client.get('/transparency/sccs')
    assert.include(sccs.text(), 'US Gamma Inc.')
    const annex = await client.get('/transparency/sccs/us_gamma/annexes.txt')
    annex.assertStatus(200)
    assert.include(annex.header('content-disposition'), 'attachment')
    for (const part of [
      'ANHANG I',
      'Datenexporteur: FluffyCall',
      'Datenimporteur: US Gamma Inc., 1 Main St',
      'ANHANG II',
      'ANHANG III',
      'Modul 3',
    ]) {
      assert.include(annex.text(), part)
    }
    const transfers = await client.get('/transparency/transfers')
    assert.match(
      transfers.text(),
      /US Gamma Inc\.[\s\S]*Vereinigte Staaten[\s\S]*Standardvertragsklauseln, Modul 3/
    )
    ;(await client.get('/transparency/sccs/eu_alpha/annexes.txt')).assertStatus(404)
  })

  test('a support user without carriers.manage cannot announce', async ({ client }) => {
    const support = await makeUser('support')
    await enableTwoFactor(support)
    const response = await client
      .post('/admin/carriers/eu_beta/announce')
      .form({})
      .withCsrfToken()
      .loginAs(support)
      .redirects(0)
    response.assertStatus(403)
  })

  test('the Atom feed parses as Atom with one entry per change', async ({ client, assert }) => {
    await activate('eu_alpha')
    const response = await client.get('/transparency/feed.atom')
    response.assertStatus(200)
    assert.include(response.header('content-type'), 'application/atom+xml')
    const xml = response.text()
    // A real XML parser: a malformed document is an error here, not a regex mismatch.
    assert.isTrue(XMLValidator.validate(xml) === true, JSON.stringify(XMLValidator.validate(xml)))
    const parsed = new XMLParser({
      ignoreAttributes: false,
      isArray: (name) => name === 'entry',
    }).parse(xml)
    assert.equal(parsed.feed['@_xmlns'], 'http://www.w3.org/2005/Atom')
    assert.isString(parsed.feed.id)
    assert.match(parsed.feed.updated, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
    const entries = parsed.feed.entry as Array<Record<string, string>>
    assert.lengthOf(entries, 2, 'announced + activated')
    for (const entry of entries) {
      assert.match(entry.id, /^tag:fluffycall\.de,2025:sub-processors\/change-\d+$/)
      assert.match(entry.updated, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
      assert.match(entry.title, /^EU Alpha /)
    }
  })
})

test.group('Routing over the database state', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => fakeCarriers())

  test('a company that objected is never routed over that carrier', async ({ client, assert }) => {
    await activate('eu_alpha')
    await activate('eu_beta')
    await CarrierRoute.createMany([
      { region: 'eu', prefix: '49', carrierName: 'eu_alpha', priority: 1, weight: 100 },
      { region: 'eu', prefix: '49', carrierName: 'eu_beta', priority: 2, weight: 100 },
    ])
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    const routing = await app.container.make(RoutingService)
    assert.deepInclude(await routing.resolve(company, '030 1234567'), {
      carriers: ['eu_alpha', 'eu_beta'],
    })

    const customerPage = await client.get('/app/sub-processors').loginAs(owner)
    customerPage.assertStatus(200)
    assert.include(customerPage.text(), 'EU Alpha GmbH')

    const objected = await client
      .post('/app/sub-processors/eu_alpha/objection')
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    objected.assertStatus(302)
    assert.isNotNull(
      await CarrierObjection.query()
        .where('company_id', company.id)
        .where('carrier_name', 'eu_alpha')
        .first()
    )
    for (let i = 0; i < 20; i++) {
      const result = await routing.resolve(company, '+49 30 1234567', Math.random)
      assert.deepInclude(result, { outcome: 'route', carriers: ['eu_beta'] })
    }
    // Other companies keep the carrier
    const other = await makeCompany('active')
    assert.deepInclude(await routing.resolve(other, '030 1234567'), {
      carriers: ['eu_alpha', 'eu_beta'],
    })
  })

  test('a member cannot object for the company', async ({ client }) => {
    await activate('eu_alpha')
    const member = await makeUser('member', await makeCompany('active'))
    const response = await client
      .post('/app/sub-processors/eu_alpha/objection')
      .withCsrfToken()
      .loginAs(member)
      .redirects(0)
    response.assertStatus(403)
  })

  test('EU-only never picks a non-EU carrier; with only non-EU carriers it is refused', async ({
    assert,
  }) => {
    await activate('us_gamma')
    await activate('eu_alpha')
    await CarrierRoute.createMany([
      { region: 'eu', prefix: '', carrierName: 'us_gamma', priority: 1, weight: 100 },
      { region: 'eu', prefix: '', carrierName: 'eu_alpha', priority: 2, weight: 100 },
      { region: 'eu', prefix: '1', carrierName: 'us_gamma', priority: 1, weight: 100 },
    ])
    const euOnly = await makeCompany('active', { dataResidency: 'eu_only' })
    const any = await makeCompany('active', { dataResidency: 'any_with_safeguards' })
    const routing = await app.container.make(RoutingService)
    assert.deepInclude(await routing.resolve(euOnly, '+49 30 1234567'), { carriers: ['eu_alpha'] })
    assert.deepInclude(await routing.resolve(any, '+49 30 1234567'), {
      carriers: ['us_gamma', 'eu_alpha'],
    })
    // +1: the longest prefix has only the US carrier; the default route still serves EU-only over EU Alpha
    assert.deepInclude(await routing.resolve(euOnly, '+1 212 5550100'), {
      prefix: '',
      carriers: ['eu_alpha'],
    })

    const lifecycle = await app.container.make(CarrierLifecycleService)
    await lifecycle.withdraw('eu_alpha', await superadmin(), '127.0.0.1')
    assert.deepInclude(await routing.resolve(euOnly, '+49 30 1234567'), {
      outcome: 'refused',
      reason: 'eu_only_no_carrier',
    })
    // 112 still goes out, over whatever is active
    assert.deepInclude(await routing.resolve(euOnly, '112'), {
      outcome: 'route',
      emergency: true,
      carriers: ['us_gamma'],
    })
  })

  test('in production a carrier with unconfirmed legal metadata is announced but cannot be activated', async ({
    assert,
  }) => {
    const manager = new CarrierManager(testCarriersConfig(), { production: true })
    const lifecycle = new CarrierLifecycleService(manager, new CarrierDirectory(manager))
    const actor = await superadmin()
    // us_gamma's metadata is unconfirmed, eu_alpha's confirmed
    await lifecycle.announce('us_gamma', actor, '127.0.0.1', DateTime.utc())
    await lifecycle.announce('eu_alpha', actor, '127.0.0.1', DateTime.utc())
    const refused = await lifecycle.activate('us_gamma', actor, '127.0.0.1').catch((error) => error)
    assert.instanceOf(refused, CarrierLifecycleError)
    assert.equal(refused.code, 'unconfirmed_metadata')
    const state = await lifecycle.activate('eu_alpha', actor, '127.0.0.1')
    assert.equal(state.lifecycle, 'active')
  })
})
