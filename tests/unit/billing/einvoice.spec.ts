import { test } from '@japa/runner'
import invoicingConfig from '#config/invoicing'
import { buildFacturXPdf, buildXRechnungXml, type CiiInvoice } from '#billing/einvoice'
import { renderInvoicePdf } from '#billing/invoice_pdf'
import { priceLines } from '#billing/invoice_arithmetic'
import { VAT_RULES, type VatTreatment } from '#billing/vat_rules'
import { validateCii, validateXRechnung } from '#tests/support/einvoice_validation'
import { attachedXml } from '#tests/support/invoice_pdf'

function invoice(treatment: VatTreatment, overrides: Partial<CiiInvoice> = {}): CiiInvoice {
  const totals = priceLines(
    [
      {
        kind: 'calls',
        description: 'Verbindungen Deutschland Festnetz & Mobil <Inland>',
        quantity: 3,
        netMicro: 1_234_567,
      },
      { kind: 'seats', description: 'Nutzerplätze (anteilig)', quantity: 2, netMicro: 7_145_161 },
      { kind: 'numbers', description: 'Rufnummern', quantity: 1, netMicro: 1_000_000 },
    ],
    VAT_RULES[treatment]
  )
  return {
    number: 'RE-2026-000001',
    typeCode: '380',
    issueDate: '2026-07-01',
    dueDate: '2026-07-15',
    periodStart: '2026-06-01',
    periodEnd: '2026-06-30',
    currency: 'EUR',
    buyerReference: '04011000-12345-67',
    buyerId: 'K-42',
    buyerName: 'Käufer GmbH',
    buyerStreet: 'Hauptstraße 1',
    buyerPostalCode: treatment === 'not_taxable' ? '8001' : '10115',
    buyerCity: 'Berlin',
    buyerCountry: treatment === 'domestic' ? 'DE' : treatment === 'reverse_charge' ? 'AT' : 'CH',
    buyerVatId:
      treatment === 'domestic'
        ? 'DE999999999'
        : treatment === 'reverse_charge'
          ? 'ATU12345678'
          : null,
    buyerEmail: 'rechnung@kaeufer.example',
    vatTreatment: treatment,
    lines: totals.lines,
    breakdown: totals.breakdown,
    netCents: totals.netCents,
    vatCents: totals.vatCents,
    grossCents: totals.grossCents,
    notes: VAT_RULES[treatment].note ? [VAT_RULES[treatment].note!] : [],
    precedingInvoice: null,
    ...overrides,
  }
}

test.group('EN 16931 CII XML (official Schematron)', () => {
  for (const treatment of ['domestic', 'reverse_charge', 'not_taxable'] as const) {
    test(`a ${treatment} invoice passes every EN 16931 rule`, async ({ assert }) => {
      const data = invoice(treatment)
      const report = await validateCii(await buildXRechnungXml(data, invoicingConfig.seller))
      assert.deepEqual(report.failed, [])
      assert.isAbove(report.fired, 10)
    }).timeout(120_000)
  }

  test('the Factur-X guideline and a Stornorechnung (384, negative, preceding invoice) pass too', async ({
    assert,
  }) => {
    const original = invoice('domestic')
    const negate = (cents: number) => -cents
    const storno = invoice('domestic', {
      number: 'RE-2026-000002',
      typeCode: '384',
      lines: original.lines.map((line) => ({ ...line, netCents: negate(line.netCents) })),
      breakdown: original.breakdown.map((group) => ({
        ...group,
        basisCents: -group.basisCents,
        vatCents: -group.vatCents,
      })),
      netCents: -original.netCents,
      vatCents: -original.vatCents,
      grossCents: -original.grossCents,
      precedingInvoice: { number: 'RE-2026-000001', issueDate: '2026-07-01' },
    })
    // Factur-X: the library attaches its CII XML (guideline EN 16931) to our rendered PDF
    const rendered = await renderInvoicePdf(
      {
        ...original,
        title: 'Rechnung',
        issuedAt: new Date('2026-07-01T05:00:00Z'),
        quantities: {},
      },
      invoicingConfig.seller
    )
    const attached = await attachedXml(
      await buildFacturXPdf(original, invoicingConfig.seller, rendered)
    )
    assert.equal(attached.relationship, '/Alternative')
    assert.match(
      attached.xml,
      /<ram:GuidelineSpecifiedDocumentContextParameter>\s*<ram:ID>urn:cen\.eu:en16931:2017<\/ram:ID>/
    )
    assert.deepEqual((await validateCii(attached.xml)).failed, [])
    assert.deepEqual(
      (await validateCii(await buildXRechnungXml(storno, invoicingConfig.seller))).failed,
      []
    )
    assert.deepEqual(
      (await validateXRechnung(await buildXRechnungXml(storno, invoicingConfig.seller))).failed,
      []
    )
  }).timeout(120_000)

  test('a wrong grand total fails BR-CO-15', async ({ assert }) => {
    const data = invoice('domestic')
    const report = await validateCii(
      await buildXRechnungXml({ ...data, grossCents: data.grossCents + 1 }, invoicingConfig.seller)
    )
    assert.include(
      report.failed.map((failure) => failure.id),
      'BR-CO-15'
    )
  }).timeout(120_000)
})

test.group('XRechnung CIUS (German rules BR-DE, KoSIT Schematron)', () => {
  const sepa = {
    kind: 'sepa_debit' as const,
    mandateReference: 'FC-K42-ABCD2345',
    creditorId: 'DE98ZZZ09999999999',
    debtorIban: 'DE89370400440532013000',
  }

  for (const treatment of ['domestic', 'reverse_charge', 'not_taxable'] as const) {
    test(`a ${treatment} invoice passes every BR-DE rule and EN 16931 still`, async ({
      assert,
    }) => {
      const xml = await buildXRechnungXml(invoice(treatment), invoicingConfig.seller)
      const report = await validateXRechnung(xml)
      assert.deepEqual(report.failed, [])
      assert.isAbove(report.fired, 10)
      assert.deepEqual((await validateCii(xml)).failed, [])
    }).timeout(120_000)
  }

  test('SEPA direct debit (59): mandate, creditor ID and debited account; buyer address by Leitweg-ID or e-mail', async ({
    assert,
  }) => {
    const withLeitweg = await buildXRechnungXml(
      invoice('domestic', { payment: sepa }),
      invoicingConfig.seller
    )
    assert.include(withLeitweg, '<ram:TypeCode>59</ram:TypeCode>')
    assert.include(
      withLeitweg,
      '<ram:DirectDebitMandateID>FC-K42-ABCD2345</ram:DirectDebitMandateID>'
    )
    assert.include(
      withLeitweg,
      '<ram:CreditorReferenceID>DE98ZZZ09999999999</ram:CreditorReferenceID>'
    )
    assert.include(withLeitweg, '<ram:URIID schemeID="0204">04011000-12345-67</ram:URIID>')
    // BT-90 without the library's payee party (a payee equal to the seller breaks BR-17)
    assert.notInclude(withLeitweg, 'PayeeTradeParty')
    assert.deepEqual((await validateXRechnung(withLeitweg)).failed, [])
    assert.deepEqual((await validateCii(withLeitweg)).failed, [])

    const withEmail = await buildXRechnungXml(
      invoice('domestic', { buyerReference: 'K-42', payment: sepa }),
      invoicingConfig.seller
    )
    assert.include(withEmail, '<ram:URIID schemeID="EM">rechnung@kaeufer.example</ram:URIID>')
    assert.deepEqual((await validateXRechnung(withEmail)).failed, [])
    assert.deepEqual((await validateCii(withEmail)).failed, [])

    // The same in the XML the library attaches to the Factur-X PDF
    const debit = invoice('domestic', { payment: sepa })
    const rendered = await renderInvoicePdf(
      { ...debit, title: 'Rechnung', issuedAt: new Date('2026-07-01T05:00:00Z'), quantities: {} },
      invoicingConfig.seller
    )
    const attached = await attachedXml(
      await buildFacturXPdf(debit, invoicingConfig.seller, rendered)
    )
    assert.include(
      attached.xml,
      '<ram:CreditorReferenceID>DE98ZZZ09999999999</ram:CreditorReferenceID>'
    )
    assert.notInclude(attached.xml, 'PayeeTradeParty')
    assert.deepEqual((await validateCii(attached.xml)).failed, [])
  }).timeout(120_000)

  test('the rules can fail: no buyer reference, no seller phone, a debit without creditor ID', async ({
    assert,
  }) => {
    // The library refuses empty values, so the elements are taken out of its valid output
    const valid = await buildXRechnungXml(
      invoice('domestic', { payment: sepa }),
      invoicingConfig.seller
    )
    assert.deepEqual((await validateXRechnung(valid)).failed, [])
    const xml = valid
      .replace(/<ram:BuyerReference>[^<]*<\/ram:BuyerReference>/, '')
      .replace(
        /<ram:TelephoneUniversalCommunication>[\s\S]*?<\/ram:TelephoneUniversalCommunication>/,
        ''
      )
      .replace(/<ram:CreditorReferenceID>[^<]*<\/ram:CreditorReferenceID>/, '')
    const ids = (await validateXRechnung(xml)).failed.map((failure) => failure.id)
    for (const rule of ['BR-DE-15', 'BR-DE-6', 'BR-DE-30']) assert.include(ids, rule)
  }).timeout(120_000)
})
