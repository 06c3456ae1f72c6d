import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditEntry from '#accounts/models/audit_entry'
import FraudCompanyPolicy from '#fraud/models/fraud_company_policy'
import FraudRiskPrefix from '#fraud/models/fraud_risk_prefix'
import { SEEDED_RISK_PREFIXES } from '#database/migrations/0500_create_fraud_tables'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { resetCounters } from '#tests/support/counters'

/**
 * The fraud admin pages: staff with fraud.manage see and change a company's destinations, kinds
 * of number, suspension and limits (audited, effective in the call path at once), and replace the
 * risk prefix table by CSV; others are refused.
 */
async function staff(role: 'superadmin' | 'fraud_analyst' | 'support') {
  const user = await makeUser(role)
  await enableTwoFactor(user)
  return user
}

function attempt(company: any, user: any, destination: string) {
  return {
    company,
    user,
    destination,
    carrierNames: ['first'],
    callUuid: randomUUID(),
    deviceId: null,
    sourceAddress: '127.0.0.2',
    kind: 'direct' as const,
    pricePerMinuteCents: null,
  }
}

test.group('Fraud admin', (group) => {
  group.each.setup(async () => {
    await resetCounters()
    ;(await app.container.make('fraud.policies')).forgetAll()
    return testUtils.db().withGlobalTransaction()
  })

  test('a company’s fraud page shows the defaults in words (German and English)', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const analyst = await staff('fraud_analyst')
    const german = (
      await client.get(`/admin/fraud/companies/${company.id}`).loginAs(analyst)
    ).text()
    assert.include(german, 'Betrugsschutz')
    assert.include(german, 'Mehrwertnummern (z. B. 0900)')
    assert.include(german, 'Gleichzeitige Gespräche')
    assert.include(german, 'Österreich')
    assert.notMatch(german, /fraud\.(company|limits|risk_classes)\./)
    const english = (
      await client
        .get(`/admin/fraud/companies/${company.id}`)
        .header('Accept-Language', 'en')
        .loginAs(analyst)
    ).text()
    assert.include(english, 'Premium-rate numbers (e.g. 0900)')
    assert.include(english, 'Calls at once')
    const companyPage = (await client.get(`/admin/companies/${company.id}`).loginAs(analyst)).text()
    assert.include(companyPage, `/admin/fraud/companies/${company.id}`)
  })

  test('staff widen a company: saved, audited, and the call gate lets 0900 and the US through', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const member = await makeUser('member', company)
    const analyst = await staff('fraud_analyst')
    const gates = await app.container.make('calls.gates')
    assert.isFalse((await gates.check(attempt(company, member, '+499001234567'))).allow)

    const response = await client
      .put(`/admin/fraud/companies/${company.id}`)
      .form({
        'allowed_countries': 'de, at US',
        // What the page's checkboxes (name="risk_classes[]") send
        'risk_classes[]': 'premium_rate',
        'outbound_suspension': 'none',
        'device_concurrent': '2',
        'max_duration_seconds': '600',
        'company_per_day': '',
      })
      .withCsrfToken()
      .loginAs(analyst)
      .redirects(0)
    response.assertStatus(302)

    const row = await FraudCompanyPolicy.findByOrFail('companyId', company.id)
    assert.deepEqual(row.allowedCountries, ['DE', 'AT', 'US'])
    assert.deepEqual(row.enabledRiskClasses, ['premium_rate'])
    assert.deepEqual(row.limits, { device: { concurrent: 2 }, maxDurationSeconds: 600 })
    assert.deepEqual(await gates.check(attempt(company, member, '+499001234567')), {
      allow: true,
      maxDurationSeconds: 600,
    })
    assert.isTrue((await gates.check(attempt(company, member, '+12125550100'))).allow)

    const audit = await AuditEntry.query()
      .where('action', 'fraud.policy.changed')
      .where('company_id', company.id)
      .firstOrFail()
    assert.equal(audit.actorId, analyst.id)
    const log = (
      await client
        .get('/admin/audit')
        .qs({ company_id: company.id })
        .loginAs(await staff('superadmin'))
    ).text()
    assert.include(log, 'Betrugsschutz einer Firma geändert')
  })

  test('suspending a company refuses its calls at once', async ({ client, assert }) => {
    const company = await makeCompany('active')
    const member = await makeUser('member', company)
    const gates = await app.container.make('calls.gates')
    assert.isTrue((await gates.check(attempt(company, member, '+4930123456'))).allow)
    await client
      .put(`/admin/fraud/companies/${company.id}`)
      .form({ allowed_countries: 'DE', outbound_suspension: 'all' })
      .withCsrfToken()
      .loginAs(await staff('superadmin'))
      .redirects(0)
    assert.deepInclude(await gates.check(attempt(company, member, '+4930123456')), {
      allow: false,
      reason: 'outbound_suspended',
    })
  })

  test('staff without fraud.manage and customers are refused', async ({ client }) => {
    const company = await makeCompany('active')
    const support = await staff('support')
    ;(await client.get(`/admin/fraud/companies/${company.id}`).loginAs(support)).assertStatus(403)
    ;(
      await client
        .put(`/admin/fraud/companies/${company.id}`)
        .form({ allowed_countries: 'DE', outbound_suspension: 'none' })
        .withCsrfToken()
        .loginAs(support)
    ).assertStatus(403)
    ;(await client.get('/admin/fraud/prefixes.csv').loginAs(support)).assertStatus(403)
    const owner = await makeUser('owner', company)
    const asOwner = await client
      .get(`/admin/fraud/companies/${company.id}`)
      .loginAs(owner)
      .redirects(0)
    asOwner.assertStatus(asOwner.status() === 302 ? 302 : 403)
  })

  test('the prefix table exports as CSV and a CSV import replaces it (audited)', async ({
    client,
    assert,
  }) => {
    const analyst = await staff('fraud_analyst')
    const exported = await client.get('/admin/fraud/prefixes.csv').loginAs(analyst)
    exported.assertStatus(200)
    assert.match(exported.header('content-type') ?? '', /text\/csv/)
    const lines = exported.text().trim().split('\n')
    assert.equal(lines[0], 'prefix,risk_class,label')
    assert.lengthOf(lines, SEEDED_RISK_PREFIXES.length + 1)
    assert.include(lines, '49900,premium_rate,Germany 0900 premium rate')

    const csv =
      'prefix,risk_class,label\n+4930999,high_risk,"Test range, Berlin"\n49900,premium_rate,Germany 0900\n'
    const imported = await client
      .post('/admin/fraud/prefixes')
      .file('csv', Buffer.from(csv), { filename: 'prefixes.csv' })
      .withCsrfToken()
      .loginAs(analyst)
      .redirects(0)
    imported.assertStatus(302)
    const rows = await FraudRiskPrefix.query().orderBy('prefix')
    assert.deepEqual(
      rows.map((row) => [row.prefix, row.riskClass, row.label]),
      [
        ['4930999', 'high_risk', 'Test range, Berlin'],
        ['49900', 'premium_rate', 'Germany 0900'],
      ]
    )
    assert.isNotNull(await AuditEntry.query().where('action', 'fraud.prefixes.imported').first())

    // The gate sees the new table at once.
    const company = await makeCompany('active')
    const member = await makeUser('member', company)
    const gates = await app.container.make('calls.gates')
    assert.deepInclude(await gates.check(attempt(company, member, '+4930999123')), {
      allow: false,
      reason: 'risk_class_high_risk',
    })
  })

  test('a CSV with a wrong line changes nothing and says which line', async ({
    client,
    assert,
  }) => {
    const analyst = await staff('fraud_analyst')
    const csv = '49900,premium_rate,Germany 0900\n49abc,high_risk,Broken\n'
    const response = await client
      .post('/admin/fraud/prefixes')
      .file('csv', Buffer.from(csv), { filename: 'prefixes.csv' })
      .withCsrfToken()
      .loginAs(analyst)
    assert.include(response.text(), 'Zeile 2: Der Bereich muss aus 1 bis 15 Ziffern bestehen.')
    assert.lengthOf(await FraudRiskPrefix.all(), SEEDED_RISK_PREFIXES.length)
  })
})
