import { createHash } from 'node:crypto'
import { extractText, getDocumentProxy } from 'unpdf'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import { DateTime } from 'luxon'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { recordDispatches, runDispatched } from '#tests/support/jobs'
import { JUNE, RUN_TIME, defaultTariff, ratedCall, seatAndNumber } from '#tests/support/invoices'
import InvoiceIssuer from '#billing/services/invoice_issuer'
import { FakeVatIdChecker } from '#billing/vat_id_checker'
import Invoice from '#billing/models/invoice'
import InvoiceRun from '#billing/models/invoice_run'

/** The customer's invoices (owner, own company only) and the staff's runs and corrections. */
async function invoicedCompany() {
  await defaultTariff()
  const company = await makeCompany('active', {
    approvedAt: DateTime.fromISO('2026-01-05T09:00:00Z'),
  })
  const owner = await makeUser('owner', company)
  await seatAndNumber(owner, company, '2026-06-16T08:00:00+02:00', '2026-05-01T08:00:00+02:00')
  await ratedCall(owner, '+4930123456', 61)
  const outcome = await new InvoiceIssuer(new FakeVatIdChecker([])).issueMonthly(company, JUNE, {
    now: RUN_TIME,
  })
  if (outcome.outcome !== 'issued') throw new Error('not issued')
  return { company, owner, invoice: outcome.invoice }
}

test.group('Invoice pages', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('the owner lists and downloads the stored bytes; admins, members and other companies cannot', async ({
    client,
    assert,
  }) => {
    const { company, owner, invoice } = await invoicedCompany()
    const list = await client.get('/app/invoices').loginAs(owner)
    list.assertStatus(200)
    assert.include(list.text(), invoice.number)
    // 1 ct call + 2.50 EUR seat + 1 EUR number = 3.51 EUR net, 0.67 EUR VAT
    assert.include(list.text(), '4,18 €')

    await invoice.load('documents')
    const stored = Object.fromEntries(
      invoice.documents.map((document) => [document.kind, document.sha256])
    )
    const xml = await client.get(`/app/invoices/${invoice.id}/xml`).loginAs(owner)
    xml.assertStatus(200)
    assert.equal(
      createHash('sha256').update(Buffer.from(xml.text(), 'utf8')).digest('hex'),
      stored.xml
    )
    const pdf = await client.get(`/app/invoices/${invoice.id}/pdf`).loginAs(owner)
    pdf.assertStatus(200)
    assert.equal(pdf.header('content-type'), 'application/pdf')
    assert.equal(pdf.header('x-content-sha256'), stored.pdf)

    ;(await client.get('/app/invoices').loginAs(await makeUser('admin', company))).assertStatus(403)
    ;(
      await client.get(`/app/invoices/${invoice.id}/pdf`).loginAs(await makeUser('member', company))
    ).assertStatus(403)
    const stranger = await makeUser('owner', await makeCompany('active'))
    ;(await client.get(`/app/invoices/${invoice.id}/pdf`).loginAs(stranger)).assertStatus(403)
    assert.notInclude((await client.get('/app/invoices').loginAs(stranger)).text(), invoice.number)
  }).timeout(60_000)

  test('staff start a run on the queue, see its results, and correct an invoice', async ({
    client,
    assert,
    cleanup,
  }) => {
    const { invoice } = await invoicedCompany()
    const admin = await makeUser('superadmin')
    await enableTwoFactor(admin)
    const support = await makeUser('support')
    await enableTwoFactor(support)
    ;(await client.get('/admin/billing/invoice-runs').loginAs(support)).assertStatus(403)

    const dispatched = await recordDispatches(cleanup)
    const started = await client
      .post('/admin/billing/invoice-runs')
      .form({ month: '2026-06' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    started.assertStatus(302)
    assert.deepEqual(
      dispatched.map((entry) => [entry.name, entry.payload.year, entry.payload.month]),
      [['billing.monthly_invoice_run', 2026, 6]]
    )
    await runDispatched(dispatched)
    const run = await InvoiceRun.query().orderBy('id', 'desc').firstOrFail()
    assert.equal(run.startedById, admin.id)
    assert.deepEqual(
      run.results.filter((result) => result.companyId === invoice.companyId),
      [
        {
          companyId: invoice.companyId,
          company: run.results.find((result) => result.companyId === invoice.companyId)!.company,
          outcome: 'skipped',
          detail: 'already_issued',
        },
      ]
    )
    const page = await client.get(`/admin/billing/invoice-runs/${run.id}`).loginAs(admin)
    page.assertStatus(200)
    assert.include(page.text(), 'Rechnung für diesen Monat besteht bereits')

    const corrected = await client
      .post(`/admin/billing/invoices/${invoice.id}/correction`)
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    corrected.assertStatus(302)
    const followers = await Invoice.query().where('preceding_invoice_id', invoice.id).orderBy('id')
    assert.deepEqual(
      followers.map((follower) => follower.type),
      ['cancellation', 'correction']
    )
    assert.equal((await Invoice.findOrFail(invoice.id)).status, 'cancelled')
    const index = await client.get('/admin/billing/invoice-runs').loginAs(admin)
    assert.include(index.text(), followers[0].number)
    assert.notInclude(index.text(), 'Gutschrift')
  }).timeout(60_000)

  test('the Zusammenfassende Meldung sums reverse-charge net amounts per VAT ID of the service month, cancellations netted', async ({
    client,
    assert,
  }) => {
    await defaultTariff()
    const issuer = new InvoiceIssuer(new FakeVatIdChecker(['ATU12345678', 'NL123456789B01']))
    const invoiced = []
    for (const [country, vatId] of [
      ['AT', 'ATU12345678'],
      ['NL', 'NL123456789B01'],
      ['DE', 'DE300000001'],
    ] as const) {
      const company = await makeCompany('active', {
        approvedAt: DateTime.fromISO('2026-01-05T09:00:00Z'),
        country,
        billingCountry: country,
        vatId,
      })
      const owner = await makeUser('owner', company)
      await seatAndNumber(owner, company, '2026-06-16T08:00:00+02:00', '2026-05-01T08:00:00+02:00')
      await ratedCall(owner, '+4930123456', 61)
      const outcome = await issuer.issueMonthly(company, JUNE, { now: RUN_TIME })
      if (outcome.outcome === 'issued') invoiced.push(outcome.invoice)
    }
    // The Dutch invoice is cancelled: its month nets to zero and drops out
    await issuer.cancel(invoiced[1], RUN_TIME.plus({ days: 1 }))
    const admin = await makeUser('superadmin')
    await enableTwoFactor(admin)
    const response = await client
      .get('/admin/billing/recapitulative-statement.csv?period=2026-Q2')
      .loginAs(admin)
    response.assertStatus(200)
    // 3.51 EUR net → 4 EUR (whole euros, half up); the German customer is not in it
    assert.equal(
      response.text(),
      'Laenderkennzeichen,USt-IdNr.,Betrag(EUR),Art der Leistung\r\nAT,U12345678,4,S\r\n'
    )
    const july = await client
      .get('/admin/billing/recapitulative-statement.csv?period=2026-07')
      .loginAs(admin)
    assert.equal(july.text(), 'Laenderkennzeichen,USt-IdNr.,Betrag(EUR),Art der Leistung\r\n')
    ;(
      await client.get('/admin/billing/recapitulative-statement.csv?period=2026-13').loginAs(admin)
    ).assertStatus(400)
  }).timeout(60_000)

  test('the itemised list is its own document: shortened numbers, no counselling line, none means none, never in the invoice', async ({
    client,
    assert,
  }) => {
    const { company, owner, invoice } = await invoicedCompany()
    await ratedCall(owner, '+498001110111', 300)
    const page = await client.get('/app/invoices').loginAs(owner)
    assert.include(page.text(), '/app/itemised/2026/6')

    const response = await client.get('/app/itemised/2026/6').loginAs(owner)
    response.assertStatus(200)
    assert.equal(response.header('content-type'), 'application/pdf')
    const bytes = new Uint8Array(
      (response.response as any).body ?? Buffer.from(response.text(), 'binary')
    )
    const { text } = await extractText(await getDocumentProxy(bytes), { mergePages: true })
    assert.include(text, 'Einzelverbindungsnachweis 06/2026')
    assert.include(text, '+4930123xxx')
    assert.notInclude(text, '+4930123456')
    assert.notInclude(text, '8001110')
    await invoice.load('documents')
    for (const document of invoice.documents)
      assert.notInclude(document.content.toString('latin1'), '4930123')

    company.itemisedNumbers = 'full'
    await company.save()
    const full = await client.get('/app/itemised/2026/6').loginAs(owner)
    const fullText = (
      await extractText(
        await getDocumentProxy(
          new Uint8Array((full.response as any).body ?? Buffer.from(full.text(), 'binary'))
        ),
        { mergePages: true }
      )
    ).text
    assert.include(fullText, '+4930123456')

    company.itemisedNumbers = 'none'
    await company.save()
    ;(await client.get('/app/itemised/2026/6').loginAs(owner)).assertStatus(404)
    assert.notInclude((await client.get('/app/invoices').loginAs(owner)).text(), '/app/itemised/')
  }).timeout(60_000)
})
