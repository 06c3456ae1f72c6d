import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { giveMandate, makePayable, validateWithXsd } from '#tests/support/payments'
import { enableTwoFactor } from '#tests/support/two_factor'
import DebitFileService, { DebitFileError } from '#billing/payments/services/debit_file_service'
import SepaDebit from '#billing/payments/models/sepa_debit'
import PaymentMethod from '#billing/payments/models/payment_method'
import PaymentTermsService from '#billing/payments/services/payment_terms_service'

const XSD = 'tests/fixtures/iso20022/pain.008.001.08.xsd'
const NOW = DateTime.fromISO('2026-12-01T09:00:00Z', { zone: 'utc' })

async function service() {
  return (await app.container.make(DebitFileService)).use({ now: () => NOW })
}

const all = (xml: string, tag: string) =>
  [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((match) => match[1])

test.group("Payments: the month's SEPA direct debits as pain.008.001.08", (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('debits grouped by scheme, sequence type and date; valid against the XSD; NbOfTxs and CtrlSum exact from cents', async ({
    assert,
  }) => {
    const core = await makeCompany('active')
    const b2b = await makeCompany('active')
    const known = await makeCompany('active')
    const transfer = await makeCompany('active')
    await giveMandate(core, 'DE89370400440532013000', 'CORE')
    await giveMandate(b2b, 'CH9300762011623852957', 'B2B', 'UBSWCHZH80A')
    const knownMandate = await giveMandate(known, 'AT611904300234573201', 'CORE')
    await PaymentMethod.create({ companyId: transfer.id, method: 'bank_transfer' })

    // Amounts whose float sum is not exact: 0.10 + 0.20, 4.35, and a large one
    const a = await makePayable(core, 10, '2026-11-30', '2026-12-07')
    const b = await makePayable(core, 20, '2026-11-30', '2026-12-07')
    const c = await makePayable(b2b, 435, '2026-11-30', '2026-12-07')
    const d = await makePayable(known, 1_999_999, '2026-11-30', '2026-12-21')
    await makePayable(transfer, 5_000, '2026-11-30')
    await makePayable(core, 7_700, '2026-10-31')
    const paid = await makePayable(b2b, 3_300, '2026-11-15')
    paid.status = 'paid'
    await paid.save()
    // The known mandate was collected before (October): its debits are RCUR from now on
    const october = await makePayable(known, 100, '2026-10-02')
    await SepaDebit.create({
      payableId: october.id,
      messageId: 'FC-DD-202610-1',
      mandateReference: knownMandate.mandateReference!,
      scheme: 'CORE',
      sequenceType: 'FRST',
      amountCents: 100,
      collectionOn: DateTime.fromISO('2026-10-16'),
      endToEndId: `${october.invoiceNumber}-1`,
      status: 'submitted',
    })

    const mark = await auditMark()
    const debits = await service()
    const messageId = await debits.collect('2026-11', null, null)
    const { xml } = await debits.xml(messageId)

    const validation = validateWithXsd(xml, XSD)
    assert.isTrue(validation.valid, validation.output)
    // The schema check can fail: an unknown sequence type is refused
    assert.isFalse(
      validateWithXsd(xml.replace('<SeqTp>FRST</SeqTp>', '<SeqTp>ONCE</SeqTp>'), XSD).valid
    )
    assert.include(xml, 'xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"')

    const header = /<GrpHdr>[\s\S]*<\/GrpHdr>/.exec(xml)![0]
    assert.deepEqual(all(header, 'NbOfTxs'), ['4'])
    assert.deepEqual(all(header, 'CtrlSum'), ['20004.64'])
    assert.equal(all(header, 'MsgId')[0], messageId)

    const blocks = [...xml.matchAll(/<PmtInf>[\s\S]*?<\/PmtInf>/g)].map((match) => match[0])
    const summary = blocks.map((block) => ({
      scheme: all(block, 'Cd').find((code) => code === 'CORE' || code === 'B2B'),
      sequence: all(block, 'SeqTp')[0],
      date: all(block, 'ReqdColltnDt')[0],
      count: all(block, 'NbOfTxs')[0],
      sum: all(block, 'CtrlSum')[0],
      ends: all(block, 'EndToEndId'),
    }))
    assert.sameDeepMembers(summary, [
      // 14 days after 30 November, later than the due date
      {
        scheme: 'CORE',
        sequence: 'FRST',
        date: '2026-12-14',
        count: '1',
        sum: '0.10',
        ends: [`${a.invoiceNumber}-1`],
      },
      {
        scheme: 'CORE',
        sequence: 'RCUR',
        date: '2026-12-14',
        count: '1',
        sum: '0.20',
        ends: [`${b.invoiceNumber}-1`],
      },
      {
        scheme: 'B2B',
        sequence: 'FRST',
        date: '2026-12-14',
        count: '1',
        sum: '4.35',
        ends: [`${c.invoiceNumber}-1`],
      },
      // due later than the pre-notification period
      {
        scheme: 'CORE',
        sequence: 'RCUR',
        date: '2026-12-21',
        count: '1',
        sum: '19999.99',
        ends: [`${d.invoiceNumber}-1`],
      },
    ])
    assert.include(xml, '<IBAN>DE89370400440532013000</IBAN>')
    assert.include(xml, '<BICFI>UBSWCHZH80A</BICFI>')
    assert.include(xml, '<Id>DE98ZZZ09999999999</Id>')

    // The rows keep references and cents, never the IBAN
    const rows = await db.from('sepa_debits').where('message_id', messageId)
    assert.lengthOf(rows, 4)
    assert.notInclude(JSON.stringify(rows), 'DE89370400440532013000')
    assert.lengthOf(await auditSince(mark).where('action', 'billing.payment.debits_exported'), 1)

    // Made again for a second download: the same document; a second collection finds nothing new
    assert.equal((await debits.xml(messageId)).xml, xml)
    await assert.rejects(() => debits.collect('2026-11', null, null), DebitFileError)
  })

  test('staff with billing.manage create and download the file; others are refused', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    await giveMandate(company, 'DE89370400440532013000', 'CORE')
    await makePayable(company, 11_900, '2026-11-30')
    const admin = await makeUser('superadmin')
    await enableTwoFactor(admin)
    const support = await makeUser('support')
    await enableTwoFactor(support)

    ;(
      await client.get('/admin/billing/payments/debits?month=2026-11').loginAs(support)
    ).assertStatus(403)
    ;(
      await client
        .post('/admin/billing/payments/debits')
        .form({ month: '2026-11' })
        .withCsrfToken()
        .loginAs(support)
    ).assertStatus(403)
    const created = await client
      .post('/admin/billing/payments/debits')
      .form({ month: '2026-11' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    created.assertStatus(302)
    const debit = await SepaDebit.query()
      .whereHas('payable', (payable) => payable.where('company_id', company.id))
      .firstOrFail()

    const page = await client.get('/admin/billing/payments/debits?month=2026-11').loginAs(admin)
    page.assertStatus(200)
    assert.include(page.text(), debit.messageId)
    assert.include(page.text(), '119,00 €')

    const file = await client
      .get(`/admin/billing/payments/debits/${debit.messageId}`)
      .loginAs(admin)
    assert.equal(file.status(), 200, file.text().slice(0, 3000))
    assert.include(file.header('content-type'), 'application/xml')
    assert.include(file.header('content-disposition'), `${debit.messageId}.xml`)
    assert.include(file.text(), '<InstdAmt Ccy="EUR">119.00</InstdAmt>')
    ;(
      await client.get(`/admin/billing/payments/debits/${debit.messageId}`).loginAs(support)
    ).assertStatus(403)

    // The mandate replaced since: the old file cannot be made again with other bank details
    await giveMandate(company, 'AT611904300234573201', 'CORE')
    const refused = await client
      .get(`/admin/billing/payments/debits/${debit.messageId}`)
      .loginAs(admin)
      .redirects(0)
    refused.assertStatus(302)
  })

  test('in production no debits are recorded under the Bundesbank test creditor ID (SEPA_* left empty)', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    await giveMandate(company, 'DE89370400440532013000', 'CORE')
    await makePayable(company, 11_900, '2026-11-30', '2026-12-07')
    const production = (await service()).use({ production: true })
    await assert.rejects(() => production.collect('2026-11', null, null), /test creditor ID/)
    assert.lengthOf(await SepaDebit.all(), 0)
    // Outside production (development, these tests) the test creditor collects as before
    const messageId = await (
      await service()
    )
      .use({ production: false })
      .collect('2026-11', null, null)
    assert.isString(messageId)
  })

  test('the invoice’s payment terms: the pre-notification under a mandate, otherwise a GiroCode for the transfer', async ({
    assert,
  }) => {
    const debtor = await makeCompany('active')
    const payer = await makeCompany('active')
    const mandate = await giveMandate(debtor, 'DE89370400440532013000', 'B2B')
    const terms = await app.container.make(PaymentTermsService)
    const debit = await terms.termsFor(
      await makePayable(debtor, 11_900, '2026-11-30', '2026-12-07'),
      DateTime.fromISO('2026-11-30')
    )
    assert.deepInclude(debit, {
      kind: 'sepa_debit',
      mandateReference: mandate.mandateReference,
      creditorId: 'DE98ZZZ09999999999',
      maskedIban: 'DE89 **** **** **** **30 00',
    })
    assert.equal(debit.kind === 'sepa_debit' && debit.collectionOn.toISODate(), '2026-12-14')

    const invoice = await makePayable(payer, 11_900, '2026-11-30')
    const transfer = await terms.termsFor(invoice)
    assert.equal(transfer.kind, 'bank_transfer')
    assert.match(transfer.kind === 'bank_transfer' ? transfer.giroCodeSvg : '', /^<svg/)
    assert.deepInclude(transfer, {
      remittance: `Rechnung ${invoice.invoiceNumber}`,
      creditorIban: 'DE87123456781234567890',
    })
  })
})
