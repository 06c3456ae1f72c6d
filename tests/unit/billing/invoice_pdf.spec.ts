import { test } from '@japa/runner'
import {
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFName,
  type PDFRawStream,
  decodePDFRawStream,
} from 'pdf-lib'
import invoicingConfig from '#config/invoicing'
import { buildCiiXml, type CiiInvoice } from '#billing/cii_invoice_xml'
import { priceLines } from '#billing/invoice_arithmetic'
import { PAGE, renderInvoicePdf, type PdfInvoice } from '#billing/invoice_pdf'
import { giroCodePayload, parseGiroCode } from '#billing/payments/girocode'
import { VAT_RULES } from '#billing/vat_rules'
import { pdfText, pdfTextItems, scanPdfQrCodes } from '#tests/support/invoice_pdf'

function invoice(lineCount: number, overrides: Partial<PdfInvoice> = {}): PdfInvoice {
  const totals = priceLines(
    Array.from({ length: lineCount }, (_, index) => ({
      kind: 'calls' as const,
      description: `Verbindungen Zielgebiet ${index + 1}: ${index + 2} Gespräche`,
      quantity: index + 2,
      netMicro: 1_000_000 + index * 10_000,
    })),
    VAT_RULES.domestic
  )
  const cii: CiiInvoice = {
    number: 'RE-2026-000007',
    typeCode: '380',
    issueDate: '2026-07-01',
    dueDate: '2026-07-15',
    periodStart: '2026-06-01',
    periodEnd: '2026-06-30',
    currency: 'EUR',
    buyerReference: 'K-42',
    buyerId: 'K-42',
    buyerName: 'Käufer GmbH',
    buyerStreet: 'Hauptstraße 1',
    buyerPostalCode: '10115',
    buyerCity: 'Berlin',
    buyerCountry: 'DE',
    buyerVatId: null,
    buyerEmail: 'rechnung@kaeufer.example',
    vatTreatment: 'domestic',
    lines: totals.lines,
    breakdown: totals.breakdown,
    netCents: totals.netCents,
    vatCents: totals.vatCents,
    grossCents: totals.grossCents,
    notes: [],
    precedingInvoice: null,
  }
  return {
    ...cii,
    title: 'Rechnung',
    issuedAt: new Date('2026-07-01T05:00:00Z'),
    quantities: Object.fromEntries(totals.lines.map((line) => [line.position, line.quantity])),
    ...overrides,
  }
}

const render = (data: PdfInvoice) =>
  renderInvoicePdf(
    data,
    buildCiiXml(data, invoicingConfig.seller, 'facturx'),
    invoicingConfig.seller
  )

test.group('Invoice PDF', () => {
  test('a long invoice continues on further pages and never writes into the footer', async ({
    assert,
  }) => {
    const data = invoice(150)
    const pages = await pdfTextItems(await render(data))
    assert.isAbove(pages.length, 2)
    const everything = pages.flat().map((item) => item.text)
    for (const line of data.lines)
      assert.equal(
        everything.filter((text) => text === line.description).length,
        1,
        line.description
      )
    pages.forEach((items, index) => {
      assert.include(
        items.map((item) => item.text),
        `Seite ${index + 1} von ${pages.length}`
      )
      // Below the body's bottom margin only the footer line (at PAGE.footer) is written
      const low = items.filter((item) => item.y < PAGE.bottom)
      assert.isAbove(low.length, 0)
      assert.deepEqual(
        low.filter((item) => item.y !== PAGE.footer),
        [],
        `page ${index + 1}`
      )
      if (index > 0) assert.include(items[0].text, 'Rechnung RE-2026-000007 (Fortsetzung)')
    })
    const last = pages.at(-1)!.map((item) => item.text)
    assert.include(last, 'Gesamtbetrag')
  }).timeout(30_000)

  test('PDF/A-3: fonts embedded (no standard 14 font), an sRGB output intent, the same bytes twice', async ({
    assert,
  }) => {
    const data = invoice(3)
    const bytes = await render(data)
    assert.deepEqual(bytes, await render(data))
    const document = await PDFDocument.load(bytes)
    const fonts = document.context
      .enumerateIndirectObjects()
      .map(([, object]) => object)
      .filter(
        (object): object is PDFDict =>
          object instanceof PDFDict && object.get(PDFName.of('Type'))?.toString() === '/Font'
      )
    assert.isAbove(fonts.length, 1)
    for (const font of fonts) {
      // Type0 fonts carry their glyphs in the descendant CIDFont's descriptor
      const descendant = font.lookupMaybe(PDFName.of('DescendantFonts'), PDFArray)
      const owner = descendant ? descendant.lookup(0, PDFDict) : font
      const descriptor = owner.lookup(PDFName.of('FontDescriptor'), PDFDict)
      assert.isDefined(
        descriptor.get(PDFName.of('FontFile2')),
        String(font.get(PDFName.of('BaseFont')))
      )
    }
    const [intent] = document.catalog
      .lookup(PDFName.of('OutputIntents'), PDFArray)
      .asArray()
      .map((ref) => document.context.lookup(ref, PDFDict))
    assert.equal(intent.get(PDFName.of('S'))?.toString(), '/GTS_PDFA1')
    const profile = intent.lookup(PDFName.of('DestOutputProfile')) as PDFRawStream
    assert.equal(profile.dict.get(PDFName.of('N'))?.toString(), '3')
    const icc = Buffer.from(decodePDFRawStream(profile).decode())
    assert.equal(icc.subarray(36, 40).toString('latin1'), 'acsp')
    assert.equal(icc.subarray(16, 20).toString('latin1'), 'RGB ')
    assert.include(icc.toString('latin1'), 'IEC 61966-2-1 Default RGB Colour Space - sRGB')
  }).timeout(30_000)

  test('bank transfer terms: the text names account and remittance; the drawn GiroCode scans to the payload', async ({
    assert,
  }) => {
    const base = invoice(3)
    const creditor = { name: 'FluffyCall GmbH', iban: 'DE87123456781234567890', bic: 'XMPLDEM0XXX' }
    const payload = giroCodePayload(
      { invoiceNumber: base.number, grossCents: base.grossCents, currency: 'EUR' },
      creditor
    )
    const bytes = await render({
      ...base,
      paymentTerms: {
        kind: 'bank_transfer',
        creditorName: creditor.name,
        creditorIban: creditor.iban,
        creditorBic: creditor.bic,
        remittance: `Rechnung ${base.number}`,
        giroCodePayload: payload,
      },
    })
    const text = await pdfText(bytes)
    assert.include(text, 'Zahlung per Überweisung')
    assert.include(text, 'IBAN: DE87 1234 5678 1234 5678 90')
    assert.include(text, `Verwendungszweck: Rechnung ${base.number}`)
    assert.include(text, 'Zahlbar ohne Abzug bis 15.07.2026')
    const scanned = await scanPdfQrCodes(bytes)
    assert.deepEqual(scanned, [payload])
    assert.include(parseGiroCode(scanned[0]), {
      iban: 'DE87123456781234567890',
      amount: `EUR${(base.grossCents / 100).toFixed(2)}`,
      remittance: `Rechnung ${base.number}`,
    })

    // Without terms (or on a direct debit) no QR code is drawn
    assert.deepEqual(await scanPdfQrCodes(await render(base)), [])
  }).timeout(30_000)
})
