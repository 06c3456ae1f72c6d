import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import { CallGateRegistry, type CallAttempt } from '#calls/gates/call_gate'
import CarrierState from '#calls/models/carrier_state'
import DpaAcceptance from '#privacy/models/dpa_acceptance'
import DpaCatalogue, { DPA_VERSIONS, type DpaVersion } from '#privacy/dpa/dpa_catalogue'
import DpaService from '#privacy/dpa/dpa_service'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { fakeCarriers } from '#tests/support/carriers'
import { pdfText } from '#tests/support/pdf'
import { binary } from '#tests/support/binary'

/**
 * The DPA (AVV, Art. 28 GDPR) in the product: the call gates refuse a company whose owner has not
 * accepted the current version (outbound and inbound), the owner accepts it in the customer area
 * (recorded with who, when, version and IP, audited), a new version asks again with its changes
 * and a grace period, and the accepted version comes back as a PDF with the annexes of that day.
 */
function attempt(company: Company, user: User): CallAttempt {
  return {
    company,
    user,
    destination: '+4930123456',
    carrierNames: ['first'],
    callUuid: randomUUID(),
    deviceId: null,
    sourceAddress: '127.0.0.2',
    kind: 'direct',
    pricePerMinuteCents: null,
  }
}

async function gates() {
  return app.container.make(CallGateRegistry)
}

const SECOND: DpaVersion = {
  version: '2.0',
  publishedOn: DateTime.now().setZone('Europe/Berlin').toISODate()!,
  graceDays: 30,
  changes: { de: ['Neuer Abschnitt über Testdaten.'], en: ['New section on test data.'] },
}

test.group('DPA: acceptance and the call gate', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => fakeCarriers())
  group.each.teardown(async () => (await app.container.make(DpaCatalogue)).reset())
  // The fraud gate after ours takes a lease for an allowed call: let its write finish first.
  group.each.teardown(async () => (await app.container.make('fraud.leases')).written())

  test('the DPA gate runs after company_active and before fraud', async ({ assert }) => {
    const { names } = await gates()
    assert.deepEqual(
      names.filter((name) => ['company_active', 'dpa', 'fraud'].includes(name)),
      ['company_active', 'dpa', 'fraud']
    )
  })

  test('a new company calls only after its owner accepted; acceptance recorded, audited and downloadable', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active', {}, { dpaAccepted: false })
    const owner = await makeUser('owner', company)
    const member = await makeUser('member', company)

    const refused = await (await gates()).check(attempt(company, member))
    assert.deepInclude(refused, {
      allow: false,
      gate: 'dpa',
      status: 403,
      phrase: 'Data processing agreement not accepted',
    })
    const inbound = await (
      await gates()
    ).checkInbound({ company, number: '+4930500100', callUuid: randomUUID() })
    assert.deepInclude(inbound, { allow: false, gate: 'dpa', status: 403 })

    const memberPage = await client.get('/app/dpa').loginAs(member)
    memberPage.assertStatus(200)
    assert.include(memberPage.text(), 'id="dpa-banner"')
    assert.include(memberPage.text(), 'data-state="required"')
    assert.include(memberPage.text(), 'Gegenstand und Dauer', 'the German text of the agreement')
    assert.include(memberPage.text(), 'id="dpa-ask-owner"')
    assert.notInclude(memberPage.text(), 'id="dpa-accept-form"')
    const byMember = await client
      .post('/app/dpa/accept')
      .form({ version: '1.0', confirm: '1' })
      .withCsrfToken()
      .loginAs(member)
      .redirects(0)
    byMember.assertStatus(403)
    assert.equal(
      await DpaAcceptance.query()
        .where('company_id', company.id)
        .count('* as n')
        .first()
        .then((row) => Number(row!.$extras.n)),
      0
    )

    const unconfirmed = await client
      .post('/app/dpa/accept')
      .form({ version: '1.0' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    unconfirmed.assertStatus(302)
    assert.isNull(await DpaAcceptance.findBy('company_id', company.id), 'the box must be ticked')

    // Two active carriers of the fake configuration: an EU one and a US one on SCCs.
    for (const carrierName of ['eu_alpha', 'us_gamma']) {
      await CarrierState.updateOrCreate(
        { carrierName },
        { enabled: true, lifecycle: 'active', activatedAt: DateTime.utc() }
      )
    }
    const mark = await auditMark()
    const accepted = await client
      .post('/app/dpa/accept')
      .form({ version: '1.0', confirm: '1' })
      .header('x-forwarded-for', '198.51.100.7')
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    accepted.assertStatus(302)
    const row = await DpaAcceptance.findByOrFail('company_id', company.id)
    assert.equal(row.version, '1.0')
    assert.equal(row.acceptedByUserId, owner.id)
    assert.equal(row.acceptedByEmail, owner.email)
    assert.isString(row.ip)
    assert.isBelow(Math.abs(row.acceptedAt.diffNow().as('seconds')), 60)
    assert.match(row.snapshotHash, /^[0-9a-f]{64}$/)
    const audit = await auditSince(mark).where('action', 'privacy.dpa.accepted')
    assert.lengthOf(audit, 1)
    assert.equal(audit[0].actorId, owner.id)
    assert.equal(audit[0].companyId, company.id)
    assert.deepInclude(audit[0].details as object, { version: '1.0', sha256: row.snapshotHash })

    assert.isTrue((await (await gates()).check(attempt(company, member))).allow)
    assert.deepEqual(
      await (
        await gates()
      ).checkInbound({ company, number: '+4930500100', callUuid: randomUUID() }),
      { allow: true }
    )
    // Both languages in words (the page tour checks this too, in the browser).
    for (const locale of ['de', 'en']) {
      const page = await client
        .get('/app/dpa')
        .loginAs(owner)
        .header('accept-language', locale)
        .cookie('locale', locale)
      for (const marker of ['translation missing', 'privacy.dpa.', '{{', '@end'])
        assert.notInclude(page.text(), marker, `${locale}: ${marker}`)
    }
    const after = await client.get('/app/dpa').loginAs(owner)
    assert.notInclude(after.text(), 'id="dpa-banner"')
    assert.include(after.text(), 'data-state="accepted"')

    // The PDF: the agreement, who accepted, and the three annexes as stored.
    const pdf = await binary(client.get(`/app/dpa/acceptances/${row.id}/pdf`).loginAs(owner))
    pdf.assertStatus(200)
    assert.equal(pdf.header('content-type'), 'application/pdf')
    const bytes = pdf.body() as Buffer
    assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-')
    const text = pdfText(bytes)
    assert.include(text, 'Vertrag über die Auftragsverarbeitung')
    assert.include(text, owner.email)
    assert.include(text, 'Anlage 1: Technische und organisatorische Maßnahmen')
    assert.include(text, 'Anlage 2: Unterauftragsverarbeiter')
    assert.include(text, 'Anlage 3: Standardvertragsklauseln')
    assert.include(text, row.snapshotHash.slice(0, 40))
    const snapshot = JSON.parse(row.snapshot)
    assert.isAbove(
      snapshot.subProcessors.length,
      0,
      'the fake carriers are in the sub-processor annex'
    )
    assert.include(text, snapshot.subProcessors[0].name)
    // The US carrier of the fake configuration transfers on SCCs: its annex is in Annex 3.
    assert.include(
      snapshot.sccAnnexes.map((annex: { name: string }) => annex.name),
      'US Gamma Inc.'
    )
    assert.include(text, 'US Gamma Inc.')
    ;(await client.get(`/app/dpa/acceptances/${row.id}/pdf`).loginAs(member)).assertStatus(403)
    const stranger = await makeUser('owner', await makeCompany('active'))
    ;(await client.get(`/app/dpa/acceptances/${row.id}/pdf`).loginAs(stranger)).assertStatus(404)

    // A changed snapshot no longer matches its hash: no PDF is made from it.
    await DpaAcceptance.query()
      .where('id', row.id)
      .update({ snapshot: row.snapshot.replace('Anlage', 'Anl.') })
    const tampered = await client.get(`/app/dpa/acceptances/${row.id}/pdf`).loginAs(owner)
    assert.notEqual(tampered.status(), 200)
  })

  test('a new version: earlier customers call on within the grace period with a banner, then must accept', async ({
    client,
    assert,
  }) => {
    const catalogue = await app.container.make(DpaCatalogue)
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    catalogue.use([...DPA_VERSIONS, SECOND])

    const service = await app.container.make(DpaService)
    const status = await service.status(company)
    assert.equal(status.state, 'grace')
    assert.isTrue((await (await gates()).check(attempt(company, owner))).allow)
    const page = await client
      .get('/app/dpa')
      .loginAs(owner)
      .header('accept-language', 'en')
      .cookie('locale', 'en')
    assert.include(page.text(), 'data-state="grace"')
    assert.include(page.text(), 'New section on test data.', 'the changes are shown')
    assert.include(page.text(), 'id="dpa-accept-form"')

    // On the injected clock, one day after the grace period: refused until the owner accepts.
    service.now = () => DateTime.now().plus({ days: SECOND.graceDays + 1 })
    assert.equal((await service.status(company)).state, 'required')

    // A company that signed up after the new version was published has no grace.
    const newcomer = await makeCompany('active', {}, { dpaAccepted: false })
    assert.equal((await (await app.container.make(DpaService)).status(newcomer)).state, 'required')

    await client
      .post('/app/dpa/accept')
      .form({ version: '2.0', confirm: '1' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    assert.equal((await service.status(company)).state, 'accepted')
    const rows = await DpaAcceptance.query().where('company_id', company.id).orderBy('id')
    assert.deepEqual(
      rows.map((row) => row.version),
      ['1.0', '2.0']
    )
    assert.deepEqual(JSON.parse(rows[1].snapshot).changes, ['Neuer Abschnitt über Testdaten.'])
  })

  test('companies that existed before the first version get its grace period', async ({
    assert,
  }) => {
    const first = DPA_VERSIONS[0]
    const published = DateTime.fromISO(first.publishedOn, { zone: 'Europe/Berlin' })
    const company = await makeCompany(
      'active',
      { createdAt: published.minus({ days: 3 }) },
      { dpaAccepted: false }
    )
    const service = await app.container.make(DpaService)
    service.now = () => published.plus({ days: 1 })
    assert.equal((await service.status(company)).state, 'grace')
    service.now = () => published.plus({ days: first.graceDays })
    assert.equal((await service.status(company)).state, 'required')
  })
})
