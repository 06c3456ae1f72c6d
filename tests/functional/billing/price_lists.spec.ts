import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import PriceList from '#billing/models/price_list'
import PriceListRate from '#billing/models/price_list_rate'
import PriceListVersion from '#billing/models/price_list_version'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { makePriceList } from '#tests/support/billing'
import { enableTwoFactor } from '#tests/support/two_factor'

/** Staff pages of billing: price lists with versions, company overrides, purchase prices, CSV. */

async function staff(role: 'superadmin' | 'support' = 'superadmin') {
  const user = await makeUser(role)
  await enableTwoFactor(user)
  return user
}

const tomorrow = () => DateTime.now().setZone('Europe/Berlin').plus({ days: 1 }).toISODate()!

/** A default list with a version valid from tomorrow (so its rates can still change). */
async function upcomingList() {
  const list = await makePriceList(null, [
    {
      validFrom: DateTime.now()
        .setZone('Europe/Berlin')
        .plus({ days: 1 })
        .startOf('day')
        .toUTC()
        .toISO()!,
      rates: [],
    },
  ])
  const version = await PriceListVersion.findByOrFail('price_list_id', list.id)
  return { list, version }
}

test.group('Billing admin: price lists', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('only staff with billing.manage reach the pages; the menu links there only for them', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const support = await staff('support')
    const owner = await makeUser('owner', await makeCompany('active'))
    const { list, version } = await upcomingList()
    const pages = [
      '/admin/billing/price-lists',
      `/admin/billing/price-lists/${list.id}`,
      `/admin/billing/price-lists/${list.id}/versions/${version.id}/export`,
      '/admin/billing/purchase-prices',
    ]
    for (const path of pages) {
      ;(await client.get(path).loginAs(admin)).assertStatus(200)
      ;(await client.get(path).loginAs(support)).assertStatus(403)
      const customer = await client.get(path).loginAs(owner).redirects(0)
      assert.notEqual(customer.status(), 200, `${path} for a customer`)
    }
    const refused = await client
      .post(`/admin/billing/price-lists/${list.id}/versions/${version.id}/rates`)
      .form({ prefix: '49', destination: 'DE', price: '1', connection_fee: '0', increment: '60/1' })
      .withCsrfToken()
      .loginAs(support)
    refused.assertStatus(403)
    assert.lengthOf(await PriceListRate.query().where('price_list_version_id', version.id), 0)

    assert.include(
      (await client.get('/admin').loginAs(admin)).text(),
      'href="/admin/billing/price-lists"'
    )
    assert.notInclude(
      (await client.get('/admin').loginAs(support)).text(),
      'href="/admin/billing/price-lists"'
    )
  })

  test('staff create the default list, a version and a destination typed in cents; shown as 0,89 ct/min and 0.89 ct/min', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const mark = await auditMark()
    const created = await client
      .post('/admin/billing/price-lists')
      .form({ name: 'Standard' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    const list = await PriceList.query().whereNull('company_id').firstOrFail()
    assert.equal(created.header('location'), `/admin/billing/price-lists/${list.id}`)

    const versioned = await client
      .post(`/admin/billing/price-lists/${list.id}/versions`)
      .form({ valid_from: tomorrow() })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    versioned.assertFlashMessage('notice', 'Preise gespeichert.')
    const version = await PriceListVersion.findByOrFail('price_list_id', list.id)
    assert.equal(
      version.validFrom.toMillis(),
      DateTime.fromISO(tomorrow(), { zone: 'Europe/Berlin' }).toMillis()
    )

    await client
      .post(`/admin/billing/price-lists/${list.id}/versions/${version.id}/rates`)
      .form({
        prefix: '49',
        destination: 'Deutschland Festnetz',
        price: '0,89',
        connection_fee: '1,5',
        increment: '60/1',
      })
      .withCsrfToken()
      .loginAs(admin)
    const rate = await PriceListRate.findByOrFail('price_list_version_id', version.id)
    assert.deepInclude(rate.serialize(), {
      prefix: '49',
      pricePerMinute: 8_900,
      connectionFee: 15_000,
      firstInterval: 60,
      nextInterval: 1,
    })

    const german = await client.get(`/admin/billing/price-lists/${list.id}`).loginAs(admin)
    assert.include(german.text(), '0,89 ct/min')
    assert.include(german.text(), '1,50 ct')
    admin.locale = 'en'
    await admin.save()
    const english = await client
      .get(`/admin/billing/price-lists/${list.id}`)
      .loginAs(admin)
      .header('accept-language', 'en')
    assert.include(english.text(), '0.89 ct/min')

    const actions = (await auditSince(mark).orderBy('id')).map((entry) => entry.action)
    assert.includeMembers(actions, [
      'price_list.created',
      'price_list.version_created',
      'price_list.rate_saved',
    ])
  })

  test('one default list only: a second is refused next to the field, and the database refuses one written past the service', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    await makePriceList(null, [])
    const second = await client
      .post('/admin/billing/price-lists')
      .form({ name: 'Noch ein Standard' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    second.assertStatus(302)
    assert.equal(
      second.flashMessage('errorsBag.company_id'),
      'Es gibt schon eine Standardpreisliste.'
    )
    assert.lengthOf(await PriceList.query().whereNull('company_id'), 1)
    // Past the service (two staff members at once, a script): the single-default index holds
    // (in a savepoint: PostgreSQL aborts the surrounding test transaction on a failed insert)
    await assert.rejects(() =>
      db.transaction((trx) =>
        PriceList.create({ name: 'Zweiter Standard', companyId: null }, { client: trx })
      )
    )
    assert.lengthOf(await PriceList.query().whereNull('company_id'), 1)
    // Company overrides are untouched by the index
    await makePriceList((await makeCompany('active')).id, [])
    await makePriceList((await makeCompany('active')).id, [])
    assert.lengthOf(await PriceList.query().whereNotNull('company_id'), 2)
  })

  test('bad input comes back next to its field', async ({ client, assert }) => {
    const admin = await staff()
    const { list, version } = await upcomingList()
    const page = `/admin/billing/price-lists/${list.id}?version=${version.id}`
    const bad = await client
      .post(`/admin/billing/price-lists/${list.id}/versions/${version.id}/rates`)
      .form({
        prefix: '+49',
        destination: '',
        price: '0,89999',
        connection_fee: 'x',
        increment: '30/30',
      })
      .header('referer', page)
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    const errors = bad.flashMessages().inputErrorsBag as Record<string, string[]>
    assert.deepEqual(errors.prefix, [
      'Nur Ziffern, höchstens 15 (ohne +); leer für alle übrigen Ziele.',
    ])
    assert.deepEqual(errors.price, [
      'Bitte einen Betrag in Cent mit bis zu vier Nachkommastellen eingeben, z. B. 0,89.',
    ])
    assert.properties(errors, ['destination', 'connection_fee', 'increment'])
    const form = await client.get(page).withFlashMessages(bad.flashMessages()).loginAs(admin)
    for (const field of ['prefix', 'destination', 'price', 'connection_fee', 'increment'])
      assert.match(form.text(), new RegExp(`data-error-for="${field}"`))

    const past = await client
      .post(`/admin/billing/price-lists/${list.id}/versions`)
      .form({ valid_from: DateTime.now().setZone('Europe/Berlin').toISODate()! })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.equal(
      past.flashMessage('errorsBag.valid_from'),
      'Eine neue Version kann frühestens ab morgen gelten.'
    )
    const shown = await client
      .get(`/admin/billing/price-lists/${list.id}`)
      .withFlashMessages(past.flashMessages())
      .loginAs(admin)
    assert.match(shown.text(), /data-error-for="valid_from"/)
    assert.lengthOf(await PriceListVersion.query().where('price_list_id', list.id), 1)
  })

  test('a version that is valid already cannot change: rates, deletes and imports are refused', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const list = await makePriceList(null, [
      { validFrom: '2026-01-01T00:00:00Z', rates: [{ prefix: '49', price: 8_900 }] },
    ])
    const version = await PriceListVersion.findByOrFail('price_list_id', list.id)
    const rate = await PriceListRate.findByOrFail('price_list_version_id', version.id)
    const saved = await client
      .post(`/admin/billing/price-lists/${list.id}/versions/${version.id}/rates`)
      .form({
        prefix: '49',
        destination: 'DE',
        price: '0,10',
        connection_fee: '0',
        increment: '1/1',
      })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.equal(
      saved.flashMessage('errorsBag.prefix'),
      'Diese Version gilt bereits; ihre Preise sind nicht mehr änderbar. Legen Sie eine neue Version an.'
    )
    await client
      .delete(`/admin/billing/price-lists/${list.id}/versions/${version.id}/rates/${rate.id}`)
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    const importedLate = await client
      .post(`/admin/billing/price-lists/${list.id}/versions/${version.id}/import`)
      .file(
        'file',
        Buffer.from(
          'prefix,destination,price_ct_per_minute,connection_fee_ct,increment\n49,DE,0.1,0,1/1\n'
        ),
        { filename: 'prices.csv' }
      )
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.equal(
      importedLate.flashMessage('errorsBag.file'),
      'Diese Version gilt bereits; ihre Preise sind nicht mehr änderbar. Legen Sie eine neue Version an.'
    )
    await rate.refresh()
    assert.equal(rate.pricePerMinute, 8_900)
    assert.lengthOf(await PriceListRate.query().where('price_list_version_id', version.id), 1)
    const page = await client.get(`/admin/billing/price-lists/${list.id}`).loginAs(admin)
    assert.include(page.text(), 'id="version-locked"')
    assert.notInclude(page.text(), 'id="rate-form"')

    // A new version starts with the old prices and can change them
    await client
      .post(`/admin/billing/price-lists/${list.id}/versions`)
      .form({ valid_from: tomorrow() })
      .withCsrfToken()
      .loginAs(admin)
    const next = await PriceListVersion.query()
      .where('price_list_id', list.id)
      .orderBy('valid_from', 'desc')
      .firstOrFail()
    assert.notEqual(next.id, version.id)
    const copied = await PriceListRate.query().where('price_list_version_id', next.id)
    assert.deepEqual(
      copied.map((entry) => [entry.prefix, entry.pricePerMinute]),
      [['49', 8_900]]
    )
  })

  test('CSV: export escapes formula cells; import replaces the rates; a bad line refuses the file with the line next to the field', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const { list, version } = await upcomingList()
    const csv =
      'prefix,destination,price_ct_per_minute,connection_fee_ct,increment\r\n49,Deutschland,0.89,0,60/1\r\n4915,"=cmd|\' /C calc\'!A0",9.9,1.5,60/60\r\n'
    const imported = await client
      .post(`/admin/billing/price-lists/${list.id}/versions/${version.id}/import`)
      .file('file', Buffer.from(csv), { filename: 'prices.csv' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    imported.assertFlashMessage('notice', '2 Ziele importiert.')
    const rates = await PriceListRate.query()
      .where('price_list_version_id', version.id)
      .orderBy('prefix')
    assert.deepEqual(
      rates.map((rate) => [rate.prefix, rate.pricePerMinute, rate.connectionFee, rate.increment]),
      [
        ['49', 8_900, 0, '60/1'],
        ['4915', 99_000, 15_000, '60/60'],
      ]
    )

    const exported = await client
      .get(`/admin/billing/price-lists/${list.id}/versions/${version.id}/export`)
      .loginAs(admin)
    exported.assertStatus(200)
    assert.match(String(exported.header('content-type')), /^text\/csv/)
    assert.match(
      String(exported.header('content-disposition')),
      /attachment; filename="price-list-\d+-\d{4}-\d{2}-\d{2}\.csv"/
    )
    assert.equal(
      exported.text(),
      "prefix,destination,price_ct_per_minute,connection_fee_ct,increment\r\n49,Deutschland,0.89,0.00,60/1\r\n4915,'=cmd|' /C calc'!A0,9.90,1.50,60/60\r\n"
    )

    const bad = await client
      .post(`/admin/billing/price-lists/${list.id}/versions/${version.id}/import`)
      .file(
        'file',
        Buffer.from(
          'prefix,destination,price_ct_per_minute,connection_fee_ct,increment\n43,AT,0.5,0,60/1\n44,UK,abc,0,60/1\n'
        ),
        { filename: 'prices.csv' }
      )
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.equal(
      bad.flashMessage('errorsBag.file'),
      'Zeile 3: Der Preis ist kein Betrag in Cent (z. B. 0.89).'
    )
    assert.lengthOf(
      await PriceListRate.query().where('price_list_version_id', version.id),
      2,
      'the bad file changed nothing'
    )
    const page = await client
      .get(`/admin/billing/price-lists/${list.id}?version=${version.id}`)
      .withFlashMessages(bad.flashMessages())
      .loginAs(admin)
    assert.match(page.text(), /data-error-for="file"/)
  })

  test('monthly fees per seat and number are set on a version in cents, shown formatted, copied into the next version', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const { list, version } = await upcomingList()
    const bad = await client
      .put(`/admin/billing/price-lists/${list.id}/versions/${version.id}/fees`)
      .form({ seat_fee: '4,99 €', number_fee: '100' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.deepEqual((bad.flashMessages().inputErrorsBag as Record<string, string[]>).seat_fee, [
      'Bitte einen Betrag in Cent mit bis zu vier Nachkommastellen eingeben, z. B. 499.',
    ])
    const shown = await client
      .get(`/admin/billing/price-lists/${list.id}?version=${version.id}`)
      .withFlashMessages(bad.flashMessages())
      .loginAs(admin)
    assert.match(shown.text(), /data-error-for="seat_fee"/)

    await client
      .put(`/admin/billing/price-lists/${list.id}/versions/${version.id}/fees`)
      .form({ seat_fee: '499', number_fee: '' })
      .withCsrfToken()
      .loginAs(admin)
    await version.refresh()
    assert.equal(version.seatFeePerMonth, 4_990_000)
    assert.isNull(version.numberFeePerMonth)
    const page = await client
      .get(`/admin/billing/price-lists/${list.id}?version=${version.id}`)
      .loginAs(admin)
    assert.match(page.text(), /<dd data-fee="seat">499,00 ct<\/dd>/)
    assert.match(page.text(), /<dd data-fee="number">keine<\/dd>/)

    const later = DateTime.now().setZone('Europe/Berlin').plus({ days: 40 }).toISODate()!
    await client
      .post(`/admin/billing/price-lists/${list.id}/versions`)
      .form({ valid_from: later })
      .withCsrfToken()
      .loginAs(admin)
    const next = await PriceListVersion.query()
      .where('price_list_id', list.id)
      .orderBy('valid_from', 'desc')
      .firstOrFail()
    assert.notEqual(next.id, version.id)
    assert.equal(next.seatFeePerMonth, 4_990_000)
  })

  test('company overrides: one per company; purchase prices give the margin per destination', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const company = await makeCompany('active')
    await makePriceList(null, [
      {
        validFrom: '2026-01-01T00:00:00Z',
        rates: [
          { prefix: '49', price: 8_900 },
          { prefix: '4915', price: 50_000 },
        ],
      },
    ])
    await client
      .post('/admin/billing/price-lists')
      .form({ name: 'Großkunde', company_id: String(company.id) })
      .withCsrfToken()
      .loginAs(admin)
    const override = await PriceList.findByOrFail('company_id', company.id)
    assert.equal(override.name, 'Großkunde')
    const again = await client
      .post('/admin/billing/price-lists')
      .form({ name: 'Noch eine', company_id: String(company.id) })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.equal(again.flashMessage('errorsBag.company_id'), 'Diese Firma hat schon eigene Preise.')
    const index = await client.get('/admin/billing/price-lists').loginAs(admin)
    assert.include(index.text(), company.legalName)

    for (const [carrier, prefix, price] of [
      ['eu_alpha', '49', '0,5'],
      ['eu_beta', '49', '0,6'],
      ['eu_alpha', '4915', '5,1'],
    ]) {
      const saved = await client
        .post('/admin/billing/purchase-prices')
        .form({ carrier_name: carrier, prefix, price })
        .withCsrfToken()
        .loginAs(admin)
        .redirects(0)
      saved.assertFlashMessage('notice', 'Preise gespeichert.')
    }
    const badPurchase = await client
      .post('/admin/billing/purchase-prices')
      .form({ carrier_name: 'EU Alpha!', prefix: '49', price: '-1' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.properties(badPurchase.flashMessages().inputErrorsBag, ['carrier_name', 'price'])

    const defaultList = await PriceList.query().whereNull('company_id').firstOrFail()
    const page = await client.get(`/admin/billing/price-lists/${defaultList.id}`).loginAs(admin)
    // 49: 0.89 − 0.60 (eu_beta, the dearer) = 0.29; 4915: 5.00 − 5.10 (eu_alpha) = −0.10
    assert.match(page.text(), /data-prefix="49" data-price="8900" data-margin="2900"/)
    assert.match(page.text(), /data-prefix="4915" data-price="50000" data-margin="-1000"/)
    assert.include(page.text(), '0,60 ct/min (eu_beta)')
    assert.include(page.text(), '-0,10 ct/min')
  })
})
