import { test } from '@japa/runner'
import invoicingConfig from '#config/invoicing'
import { buildCiiXml, type CiiInvoice } from '#billing/cii_invoice_xml'
import { priceLines } from '#billing/invoice_arithmetic'
import { VAT_RULES, type VatTreatment } from '#billing/vat_rules'
import { validateCii, validateXRechnung } from '#tests/support/einvoice_validation'

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
      const report = await validateCii(buildCiiXml(data, invoicingConfig.seller, 'xrechnung'))
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
    assert.deepEqual(
      (await validateCii(buildCiiXml(original, invoicingConfig.seller, 'facturx'))).failed,
      []
    )
    assert.deepEqual(
      (await validateCii(buildCiiXml(storno, invoicingConfig.seller, 'xrechnung'))).failed,
      []
    )
    assert.deepEqual(
      (await validateXRechnung(buildCiiXml(storno, invoicingConfig.seller, 'xrechnung'))).failed,
      []
    )
  }).timeout(120_000)

  test('a wrong grand total fails BR-CO-15', async ({ assert }) => {
    const data = invoice('domestic')
    const report = await validateCii(
      buildCiiXml({ ...data, grossCents: data.grossCents + 1 }, invoicingConfig.seller, 'xrechnung')
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
      const xml = buildCiiXml(invoice(treatment), invoicingConfig.seller, 'xrechnung')
      const report = await validateXRechnung(xml)
      assert.deepEqual(report.failed, [])
      assert.isAbove(report.fired, 10)
      assert.deepEqual((await validateCii(xml)).failed, [])
    }).timeout(120_000)
  }

  test('SEPA direct debit (59): mandate, creditor ID and debited account; buyer address by Leitweg-ID or e-mail', async ({
    assert,
  }) => {
    const withLeitweg = buildCiiXml(
      invoice('domestic', { payment: sepa }),
      invoicingConfig.seller,
      'xrechnung'
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
    assert.deepEqual((await validateXRechnung(withLeitweg)).failed, [])
    assert.deepEqual((await validateCii(withLeitweg)).failed, [])

    const withEmail = buildCiiXml(
      invoice('domestic', { buyerReference: 'K-42', payment: sepa }),
      invoicingConfig.seller,
      'xrechnung'
    )
    assert.include(withEmail, '<ram:URIID schemeID="EM">rechnung@kaeufer.example</ram:URIID>')
    assert.deepEqual((await validateXRechnung(withEmail)).failed, [])
    assert.deepEqual((await validateCii(withEmail)).failed, [])
  }).timeout(120_000)

  test('the rules can fail: no buyer reference, no seller phone, a debit without creditor ID', async ({
    assert,
  }) => {
    const data = invoice('domestic', { buyerReference: ' ', payment: { ...sepa, creditorId: '' } })
    const xml = buildCiiXml(data, { ...invoicingConfig.seller, phone: '' }, 'xrechnung').replace(
      /<ram:CreditorReferenceID>[^<]*<\/ram:CreditorReferenceID>/,
      ''
    )
    const ids = (await validateXRechnung(xml)).failed.map((failure) => failure.id)
    for (const rule of ['BR-DE-15', 'BR-DE-6', 'BR-DE-30']) assert.include(ids, rule)
  }).timeout(120_000)
})
