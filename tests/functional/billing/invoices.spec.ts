import { createHash } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import {
  PDFDocument,
  PDFName,
  PDFDict,
  PDFArray,
  type PDFRawStream,
  decodePDFRawStream,
} from 'pdf-lib'
import { extractText, getDocumentProxy } from 'unpdf'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { JUNE, RUN_TIME, defaultTariff, ratedCall, seatAndNumber } from '#tests/support/invoices'
import { validateCii, validateXRechnung } from '#tests/support/einvoice_validation'
import { pdfText, scanPdfQrCodes } from '#tests/support/invoice_pdf'
import { giveMandate } from '#tests/support/payments'
import { parseGiroCode } from '#billing/payments/girocode'
import Invoice from '#billing/models/invoice'
import InvoiceIssuer from '#billing/services/invoice_issuer'
import { FakeVatIdChecker } from '#billing/vat_id_checker'
import { ImmutableInvoiceError } from '#billing/invoice_errors'

async function companyWithJune(overrides: Parameters<typeof makeCompany>[1] = {}) {
  const company = await makeCompany('active', {
    approvedAt: DateTime.fromISO('2026-01-05T09:00:00Z'),
    ...overrides,
  })
  const user = await makeUser('owner', company)
  await seatAndNumber(user, company, '2026-06-16T08:00:00+02:00', '2026-05-01T08:00:00+02:00')
  await ratedCall(user, '+4930123456', 61)
  await ratedCall(user, '+4930654321', 61)
  await ratedCall(user, '+4915112345678', 61)
  return company
}

async function documents(invoice: Invoice) {
  await invoice.load('documents')
  const xml = invoice.documents.find((document) => document.kind === 'xml')!
  const pdf = invoice.documents.find((document) => document.kind === 'pdf')!
  return { xml, pdf }
}

test.group('Invoices: the monthly invoice of a company', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('lines per destination category and pro-rata fees, rounded once per line, 19 % on the sum', async ({
    assert,
  }) => {
    await defaultTariff()
    const company = await companyWithJune({ buyerReference: '04011000-12345-67' })
    const issuer = new InvoiceIssuer(new FakeVatIdChecker([]))
    const outcome = await issuer.issueMonthly(company, JUNE, { now: RUN_TIME })
    assert.equal(outcome.outcome, 'issued')
    const invoice = outcome.outcome === 'issued' ? outcome.invoice : null!
    await invoice.load('lines')
    // 2 × 9,049 → 2 ct; 213,000 → 21 ct; seat 15 of 30 days of 4.99 EUR = 2,495,000 → 250 ct (half up); number 100 ct
    assert.deepEqual(
      invoice.lines.map((line) => [line.kind, line.quantity, line.netMicro, line.netCents]),
      [
        ['calls', 2, 18_098, 2],
        ['calls', 1, 213_000, 21],
        ['seats', 1, 2_495_000, 250],
        ['numbers', 1, 1_000_000, 100],
      ]
    )
    assert.match(invoice.lines[0].description, /^Verbindungen Deutschland Festnetz: 2 Gespräche/)
    // 373 ct × 19 % = 70.87 → 71 ct
    assert.deepEqual([invoice.netCents, invoice.vatCents, invoice.grossCents], [373, 71, 444])
    assert.equal(invoice.vatTreatment, 'domestic')
    assert.match(invoice.number, /^RE-2026-\d{6}$/)
    assert.deepEqual(
      [invoice.issueDate, invoice.dueDate, invoice.buyerReference],
      ['2026-07-01', '2026-07-15', '04011000-12345-67']
    )
    // Handed to payments once, with the gross amount and the due date
    const payable = await db
      .from('payment_payables')
      .where('invoice_number', invoice.number)
      .firstOrFail()
    assert.deepEqual(
      [payable.company_id, Number(payable.gross_cents), payable.status],
      [company.id, 444, 'open']
    )

    const { xml, pdf } = await documents(invoice)
    assert.equal(xml.sha256, createHash('sha256').update(xml.content).digest('hex'))
    assert.equal(pdf.sha256, createHash('sha256').update(pdf.content).digest('hex'))
    const text = xml.content.toString('utf8')
    assert.include(text, '<ram:BuyerReference>04011000-12345-67</ram:BuyerReference>')
    assert.include(text, '<ram:GrandTotalAmount>4.44</ram:GrandTotalAmount>')
    assert.deepEqual((await validateCii(text)).failed, [])

    // The PDF: its text holds the totals; XMP declares PDF/A-3 and Factur-X; the XML is attached
    const { text: pages } = await extractText(await getDocumentProxy(new Uint8Array(pdf.content)), {
      mergePages: true,
    })
    assert.include(pages, `Rechnung ${invoice.number}`)
    assert.include(pages, '3,73 EUR')
    assert.include(pages, 'Umsatzsteuer 19 % auf 3,73 EUR')
    assert.include(pages, '0,71 EUR')
    assert.include(pages, '4,44 EUR')
    const document = await PDFDocument.load(pdf.content)
    const metadata = document.context.lookup(
      document.catalog.get(PDFName.of('Metadata'))
    ) as PDFRawStream
    const xmp = Buffer.from(metadata.getContents()).toString('utf8')
    assert.include(xmp, '<pdfaid:part>3</pdfaid:part>')
    assert.include(xmp, '<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>')
    assert.include(xmp, '<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>')
    const [fileSpec] = document.catalog
      .lookup(PDFName.of('AF'), PDFArray)
      .asArray()
      .map((ref) => document.context.lookup(ref, PDFDict))
    assert.equal(fileSpec.get(PDFName.of('AFRelationship'))?.toString(), '/Alternative')
    const embedded = document.context.lookup(
      fileSpec.lookup(PDFName.of('EF'), PDFDict).get(PDFName.of('F'))
    ) as PDFRawStream
    const attached = Buffer.from(decodePDFRawStream(embedded).decode()).toString('utf8')
    assert.include(attached, '<ram:ID>urn:cen.eu:en16931:2017</ram:ID>')
    assert.include(attached, `<ram:ID>${invoice.number}</ram:ID>`)
    assert.deepEqual((await validateCii(attached)).failed, [])
  }).timeout(60_000)

  test('payment terms on the PDF: a GiroCode for a bank transfer, the SEPA pre-notification under a mandate; both XMLs pass BR-DE', async ({
    assert,
  }) => {
    await defaultTariff()
    const issuer = new InvoiceIssuer(new FakeVatIdChecker([]))

    const payer = await companyWithJune()
    const transfer = await issuer.issueMonthly(payer, JUNE, { now: RUN_TIME })
    const invoice = transfer.outcome === 'issued' ? transfer.invoice : null!
    const { xml, pdf } = await documents(invoice)
    const text = await pdfText(new Uint8Array(pdf.content))
    assert.include(text, 'Zahlung per Überweisung')
    assert.include(text, 'Zahlbar ohne Abzug bis 15.07.2026')
    assert.include(text, 'IBAN: DE87 1234 5678 1234 5678 90')
    assert.include(text, `Verwendungszweck: Rechnung ${invoice.number}`)
    const [scanned] = await scanPdfQrCodes(new Uint8Array(pdf.content))
    assert.include(parseGiroCode(scanned), {
      serviceTag: 'BCD',
      iban: 'DE87123456781234567890',
      amount: 'EUR4.44',
      remittance: `Rechnung ${invoice.number}`,
    })
    const owner = await db
      .from('users')
      .where('company_id', payer.id)
      .orderBy('id')
      .select('email')
      .firstOrFail()
    const transferXml = xml.content.toString('utf8')
    assert.include(transferXml, '<ram:TypeCode>58</ram:TypeCode>')
    assert.include(transferXml, `<ram:URIID schemeID="EM">${owner.email}</ram:URIID>`)
    assert.deepEqual((await validateXRechnung(transferXml)).failed, [])

    const debtor = await companyWithJune({ buyerReference: '04011000-12345-67' })
    const mandate = await giveMandate(debtor, 'DE89370400440532013000', 'CORE')
    const debit = await issuer.issueMonthly(debtor, JUNE, { now: RUN_TIME })
    const debited = debit.outcome === 'issued' ? debit.invoice : null!
    const debitDocuments = await documents(debited)
    // Wrapped lines joined again
    const debitText = (await pdfText(new Uint8Array(debitDocuments.pdf.content))).replace(
      /\s+/g,
      ' '
    )
    assert.include(debitText, 'Zahlung per SEPA-Lastschrift')
    // 14 days of pre-notification from 1 July: 15 July (a Wednesday, a TARGET2 business day)
    assert.include(
      debitText,
      'am 15.07.2026 per SEPA-Lastschrift von Ihrem Konto DE89 **** **** **** **30 00'
    )
    assert.include(debitText, `Mandatsreferenz: ${mandate.mandateReference}`)
    assert.include(debitText, 'Gläubiger-Identifikationsnummer: DE98ZZZ09999999999')
    assert.notInclude(debitText, 'DE89370400440532013000')
    assert.deepEqual(await scanPdfQrCodes(new Uint8Array(debitDocuments.pdf.content)), [])
    const debitXml = debitDocuments.xml.content.toString('utf8')
    assert.include(debitXml, '<ram:TypeCode>59</ram:TypeCode>')
    assert.include(
      debitXml,
      `<ram:DirectDebitMandateID>${mandate.mandateReference}</ram:DirectDebitMandateID>`
    )
    assert.include(debitXml, '<ram:URIID schemeID="0204">04011000-12345-67</ram:URIID>')
    assert.deepEqual((await validateXRechnung(debitXml)).failed, [])
    assert.deepEqual((await validateCii(debitXml)).failed, [])
  }).timeout(60_000)

  test('a second run for the same month issues nothing and leaves the stored bytes alone', async ({
    assert,
  }) => {
    await defaultTariff()
    const company = await companyWithJune()
    const issuer = new InvoiceIssuer(new FakeVatIdChecker([]))
    const first = await issuer.issueMonthly(company, JUNE, { now: RUN_TIME })
    const again = await issuer.issueMonthly(company, JUNE, { now: RUN_TIME.plus({ hours: 1 }) })
    assert.deepEqual(again, { outcome: 'skipped', reason: 'already_issued' })
    assert.equal(
      await Invoice.query()
        .where('company_id', company.id)
        .count('* as total')
        .then((rows) => Number(rows[0].$extras.total)),
      1
    )
    assert.equal(first.outcome, 'issued')
  }).timeout(60_000)

  test('VAT cases: EU with a valid VAT ID reverse charge, EU without one 19 %, outside the EU not taxable', async ({
    assert,
  }) => {
    await defaultTariff()
    const checker = new FakeVatIdChecker(['ATU12345678'])
    const issuer = new InvoiceIssuer(checker)
    const austria = await companyWithJune({
      country: 'AT',
      billingCountry: 'AT',
      vatId: 'ATU12345678',
    })
    const austriaUnchecked = await companyWithJune({
      country: 'AT',
      billingCountry: 'AT',
      vatId: 'ATU87654321',
    })
    const swiss = await companyWithJune({
      country: 'CH',
      billingCountry: 'CH',
      vatId: null,
      billingPostalCode: '8001',
      billingCity: 'Zürich',
    })

    const issued = async (company: typeof austria) => {
      const outcome = await issuer.issueMonthly(company, JUNE, { now: RUN_TIME })
      return outcome.outcome === 'issued' ? outcome.invoice : assert.fail('not issued')
    }
    const reverse = await issued(austria)
    assert.deepEqual(
      [reverse.vatTreatment, reverse.netCents, reverse.vatCents, reverse.grossCents],
      ['reverse_charge', 373, 0, 373]
    )
    const reverseXml = (await documents(reverse)).xml.content.toString('utf8')
    assert.include(reverseXml, '<ram:ID schemeID="VA">ATU12345678</ram:ID>')
    assert.include(reverseXml, '<ram:ID schemeID="VA">DE123456789</ram:ID>')
    assert.include(reverseXml, 'Steuerschuldnerschaft des Leistungsempfängers')
    assert.include(reverseXml, '<ram:CategoryCode>AE</ram:CategoryCode>')
    assert.deepEqual((await validateCii(reverseXml)).failed, [])

    const unchecked = await issued(austriaUnchecked)
    assert.deepEqual([unchecked.vatTreatment, unchecked.vatCents], ['domestic', 71])

    const abroad = await issued(swiss)
    assert.deepEqual(
      [abroad.vatTreatment, abroad.vatCents, abroad.grossCents],
      ['not_taxable', 0, 373]
    )
    assert.include(abroad.vatNote!, '§ 3a Abs. 2 UStG')
    const abroadXml = (await documents(abroad)).xml.content.toString('utf8')
    assert.include(abroadXml, '<ram:CategoryCode>O</ram:CategoryCode>')
    assert.notInclude(abroadXml, 'schemeID="VA"')
    assert.deepEqual((await validateCii(abroadXml)).failed, [])
    assert.deepEqual(checker.asked, ['ATU12345678', 'ATU87654321'])
  }).timeout(60_000)

  test('an issued invoice is immutable in the model; only its status changes', async ({
    assert,
  }) => {
    await defaultTariff()
    const company = await companyWithJune()
    const outcome = await new InvoiceIssuer(new FakeVatIdChecker([])).issueMonthly(company, JUNE, {
      now: RUN_TIME,
    })
    const invoice = outcome.outcome === 'issued' ? outcome.invoice : assert.fail('not issued')

    invoice.grossCents = 1
    await assert.rejects(() => invoice.save(), ImmutableInvoiceError)
    const fresh = await Invoice.findOrFail(invoice.id)
    await assert.rejects(() => fresh.delete(), ImmutableInvoiceError)
    await fresh.load('lines')
    fresh.lines[0].netCents = 0
    await assert.rejects(() => fresh.lines[0].save(), ImmutableInvoiceError)
    const { xml } = await documents(fresh)
    xml.sha256 = '0'.repeat(64)
    await assert.rejects(() => xml.save(), ImmutableInvoiceError)

    await fresh.markStatus('paid', RUN_TIME.plus({ days: 3 }))
    const reloaded = await Invoice.findOrFail(invoice.id)
    assert.deepEqual([reloaded.status, reloaded.grossCents], ['paid', 444])
  }).timeout(60_000)

  test('a Stornorechnung takes the next number, negates every line and cancels the original', async ({
    assert,
  }) => {
    await defaultTariff()
    const company = await companyWithJune()
    const issuer = new InvoiceIssuer(new FakeVatIdChecker([]))
    const outcome = await issuer.issueMonthly(company, JUNE, { now: RUN_TIME })
    const original = outcome.outcome === 'issued' ? outcome.invoice : assert.fail('not issued')
    const { cancellation, correction } = await issuer.correct(original, RUN_TIME.plus({ days: 2 }))

    const sequence = (number: string) => Number(number.split('-').pop())
    assert.equal(sequence(cancellation.number), sequence(original.number) + 1)
    assert.equal(cancellation.type, 'cancellation')
    assert.deepEqual(
      [cancellation.netCents, cancellation.vatCents, cancellation.grossCents],
      [-373, -71, -444]
    )
    assert.equal(cancellation.precedingInvoiceId, original.id)
    assert.equal((await Invoice.findOrFail(original.id)).status, 'cancelled')
    const stornoXml = (await documents(cancellation)).xml.content.toString('utf8')
    assert.include(stornoXml, '<ram:TypeCode>384</ram:TypeCode>')
    assert.include(stornoXml, `<ram:IssuerAssignedID>${original.number}</ram:IssuerAssignedID>`)
    assert.notInclude(stornoXml, 'Gutschrift')
    assert.deepEqual((await validateCii(stornoXml)).failed, [])
    const { text } = await extractText(
      await getDocumentProxy(new Uint8Array((await documents(cancellation)).pdf.content)),
      { mergePages: true }
    )
    assert.include(text, `Stornorechnung ${cancellation.number}`)

    assert.equal(correction!.type, 'correction')
    assert.equal(sequence(correction!.number), sequence(original.number) + 2)
    assert.equal(correction!.grossCents, 444)
    await assert.rejects(() => issuer.cancel(cancellation), /not_an_invoice/)
  }).timeout(60_000)
})
