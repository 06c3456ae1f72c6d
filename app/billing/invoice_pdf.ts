import {
  AFRelationship,
  PDFDocument,
  PDFName,
  PDFString,
  StandardFonts,
  rgb,
  type PDFFont,
  type PDFPage,
} from 'pdf-lib'
import type { InvoicingConfig } from '#config/invoicing'
import type { CiiInvoice } from '#billing/cii_invoice_xml'
import { escapeXml } from '#billing/cii_invoice_xml'

/**
 * The human-readable invoice as ZUGFeRD 2 / Factur-X profile EN 16931: a PDF/A-3 whose XMP declares
 * pdfaid:part 3 and the Factur-X extension schema, with the CII XML attached as factur-x.xml
 * (AFRelationship Alternative, listed in the catalog's /AF). Dates inside the PDF are the issue
 * time, so the same input renders the same bytes; the bytes are stored once and never re-rendered.
 */
export const FACTURX_FILENAME = 'factur-x.xml'

export interface PdfInvoice extends CiiInvoice {
  title: string
  issuedAt: Date
  /** Printed quantity per line, by position. */
  quantities: Record<number, number>
}

const euro = (cents: number) => {
  const sign = cents < 0 ? '-' : ''
  const absolute = Math.abs(cents)
  const whole = new Intl.NumberFormat('de-DE').format(Math.floor(absolute / 100))
  return `${sign}${whole},${String(absolute % 100).padStart(2, '0')} EUR`
}
const germanDate = (isoDate: string) => isoDate.split('-').reverse().join('.')
const percent = (rateBp: number) => `${(rateBp / 100).toLocaleString('de-DE')} %`

function xmp(invoice: PdfInvoice, seller: InvoicingConfig['seller']) {
  const iso = invoice.issuedAt.toISOString()
  return `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
<pdfaid:part>3</pdfaid:part>
<pdfaid:conformance>B</pdfaid:conformance>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">${escapeXml(`${invoice.title} ${invoice.number}`)}</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>${escapeXml(seller.name)}</rdf:li></rdf:Seq></dc:creator>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
<pdf:Producer>FluffyCall</pdf:Producer>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
<xmp:CreateDate>${iso}</xmp:CreateDate>
<xmp:ModifyDate>${iso}</xmp:ModifyDate>
<xmp:CreatorTool>FluffyCall billing</xmp:CreatorTool>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:fx="urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#">
<fx:DocumentType>INVOICE</fx:DocumentType>
<fx:DocumentFileName>${FACTURX_FILENAME}</fx:DocumentFileName>
<fx:Version>1.0</fx:Version>
<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>
<pdfaSchema:namespaceURI>urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>fx</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq>
<rdf:li rdf:parseType="Resource"><pdfaProperty:name>DocumentFileName</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>name of the embedded XML invoice file</pdfaProperty:description></rdf:li>
<rdf:li rdf:parseType="Resource"><pdfaProperty:name>DocumentType</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>INVOICE</pdfaProperty:description></rdf:li>
<rdf:li rdf:parseType="Resource"><pdfaProperty:name>Version</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>version of the Factur-X XML schema</pdfaProperty:description></rdf:li>
<rdf:li rdf:parseType="Resource"><pdfaProperty:name>ConformanceLevel</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>profile of the embedded XML</pdfaProperty:description></rdf:li>
</rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`
}

class Writer {
  y = 800
  constructor(
    private page: PDFPage,
    private font: PDFFont,
    private bold: PDFFont
  ) {}

  text(value: string, x: number, options: { size?: number; bold?: boolean; right?: boolean } = {}) {
    const size = options.size ?? 9
    const font = options.bold ? this.bold : this.font
    const left = options.right ? x - font.widthOfTextAtSize(value, size) : x
    this.page.drawText(value, { x: left, y: this.y, size, font, color: rgb(0.1, 0.1, 0.1) })
  }

  line(gap = 13) {
    this.y -= gap
  }
}

export async function renderInvoicePdf(
  invoice: PdfInvoice,
  xml: string,
  seller: InvoicingConfig['seller']
): Promise<Uint8Array> {
  const pdf = await PDFDocument.create({ updateMetadata: false })
  const page = pdf.addPage([595.28, 841.89])
  const font = await pdf.embedFont(StandardFonts.Helvetica)
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold)
  const write = new Writer(page, font, bold)

  write.text(`${seller.name} · ${seller.street} · ${seller.postalCode} ${seller.city}`, 50, {
    size: 7,
  })
  write.line(20)
  for (const row of [
    invoice.buyerName,
    invoice.buyerStreet,
    `${invoice.buyerPostalCode} ${invoice.buyerCity}`,
    invoice.buyerCountry,
  ]) {
    write.text(row, 50, { size: 10 })
    write.line()
  }
  write.line(20)
  write.text(`${invoice.title} ${invoice.number}`, 50, { size: 14, bold: true })
  write.line(20)
  const facts: Array<[string, string]> = [
    ['Rechnungsdatum', germanDate(invoice.issueDate)],
    ['Leistungszeitraum', `${germanDate(invoice.periodStart)} – ${germanDate(invoice.periodEnd)}`],
    ['Kundennummer', invoice.buyerId],
    ['Käuferreferenz (Leitweg-ID)', invoice.buyerReference],
  ]
  if (invoice.buyerVatId) facts.push(['USt-IdNr. Leistungsempfänger', invoice.buyerVatId])
  facts.push(['USt-IdNr. Leistender', seller.vatId])
  if (invoice.precedingInvoice)
    facts.push([
      'Bezieht sich auf Rechnung',
      `${invoice.precedingInvoice.number} vom ${germanDate(invoice.precedingInvoice.issueDate)}`,
    ])
  for (const [label, value] of facts) {
    write.text(label, 50)
    write.text(value, 220)
    write.line()
  }
  write.line(12)
  write.text('Pos.', 50, { bold: true })
  write.text('Leistung', 80, { bold: true })
  write.text('Menge', 400, { bold: true, right: true })
  write.text('USt', 460, { bold: true, right: true })
  write.text('Netto', 545, { bold: true, right: true })
  write.line()
  for (const line of invoice.lines) {
    write.text(String(line.position), 50)
    write.text(line.description, 80)
    write.text(String(invoice.quantities[line.position] ?? 1), 400, { right: true })
    write.text(line.vatCategory === 'O' ? '–' : percent(line.vatRateBp), 460, { right: true })
    write.text(euro(line.netCents), 545, { right: true })
    write.line()
  }
  write.line(8)
  write.text('Summe netto', 330)
  write.text(euro(invoice.netCents), 545, { right: true })
  write.line()
  for (const group of invoice.breakdown) {
    const label =
      group.category === 'S'
        ? `Umsatzsteuer ${percent(group.rateBp)} auf ${euro(group.basisCents)}`
        : `Umsatzsteuer (${group.category}) auf ${euro(group.basisCents)}`
    write.text(label, 330)
    write.text(euro(group.vatCents), 545, { right: true })
    write.line()
  }
  write.text('Gesamtbetrag', 330, { bold: true })
  write.text(euro(invoice.grossCents), 545, { right: true, bold: true })
  write.line(24)
  for (const note of invoice.notes) {
    write.text(note, 50, { size: 8 })
    write.line(11)
  }
  if (invoice.grossCents > 0) {
    write.text(
      `Zahlbar ohne Abzug bis ${germanDate(invoice.dueDate)} auf IBAN ${seller.iban}, Verwendungszweck ${invoice.number}.`,
      50,
      { size: 8 }
    )
    write.line(11)
  }
  write.y = 40
  write.text(
    `${seller.name} · ${seller.registerEntry} · USt-IdNr. ${seller.vatId} · ${seller.email}`,
    50,
    { size: 7 }
  )

  pdf.setTitle(`${invoice.title} ${invoice.number}`)
  pdf.setAuthor(seller.name)
  pdf.setProducer('FluffyCall')
  pdf.setCreator('FluffyCall billing')
  pdf.setCreationDate(invoice.issuedAt)
  pdf.setModificationDate(invoice.issuedAt)
  await pdf.attach(new TextEncoder().encode(xml), FACTURX_FILENAME, {
    mimeType: 'text/xml',
    description: 'Factur-X/ZUGFeRD invoice (EN 16931)',
    creationDate: invoice.issuedAt,
    modificationDate: invoice.issuedAt,
    afRelationship: AFRelationship.Alternative,
  })
  const metadata = pdf.context.stream(xmp(invoice, seller), { Type: 'Metadata', Subtype: 'XML' })
  pdf.catalog.set(PDFName.of('Metadata'), pdf.context.register(metadata))
  pdf.catalog.set(PDFName.of('Lang'), PDFString.of('de-DE'))
  // A fixed file identifier derived from the number keeps rendering deterministic
  const id = PDFString.of(invoice.number)
  pdf.context.trailerInfo.ID = pdf.context.obj([id, id])
  return pdf.save({ useObjectStreams: false })
}
