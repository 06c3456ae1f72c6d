import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import {
  AFRelationship,
  PDFDocument,
  PDFName,
  PDFString,
  concatTransformationMatrix,
  drawObject,
  popGraphicsState,
  pushGraphicsState,
  rgb,
  type PDFFont,
  type PDFPage,
} from 'pdf-lib'
import fontkit from '@pdf-lib/fontkit'
import QRCode from 'qrcode'
import type { InvoicingConfig } from '#config/invoicing'
import type { CiiInvoice } from '#billing/cii_invoice_xml'
import { escapeXml } from '#billing/cii_invoice_xml'

/**
 * The human-readable invoice as ZUGFeRD 2 / Factur-X profile EN 16931: a PDF/A-3 whose XMP declares
 * pdfaid:part 3 and the Factur-X extension schema, with the CII XML attached as factur-x.xml
 * (AFRelationship Alternative, listed in the catalog's /AF). PDF/A-3 also asks for embedded fonts
 * (DejaVu Sans from the npm package dejavu-fonts-ttf, subset, through @pdf-lib/fontkit) and an
 * output intent with an ICC profile for the colours used (the ICC's sRGB2014 v2 profile that the npm
 * package pdfkit ships for its own PDF/A output). Dates inside the PDF are the issue time and font
 * names are fixed, so the same input renders the same bytes; the bytes are stored once and never
 * re-rendered. Long invoices continue on further pages; every page has the footer and "Seite n von m".
 */
export const FACTURX_FILENAME = 'factur-x.xml'

/** How the invoice says it is paid (from payments' PaymentTermsService, dates as ISO days). */
export type PdfPaymentTerms =
  | {
      kind: 'sepa_debit'
      /** The pre-notification: collected on this day under this mandate. */
      collectionOn: string
      mandateReference: string
      creditorId: string
      maskedIban: string
    }
  | {
      kind: 'bank_transfer'
      creditorName: string
      creditorIban: string
      creditorBic: string
      remittance: string
      /** The EPC069-12 GiroCode payload, drawn as a QR code. */
      giroCodePayload: string
    }

export interface PdfInvoice extends CiiInvoice {
  title: string
  issuedAt: Date
  /** Printed quantity per line, by position. */
  quantities: Record<number, number>
  /** Absent for documents nothing is paid on (a Stornorechnung). */
  paymentTerms?: PdfPaymentTerms | null
}

const require = createRequire(import.meta.url)

/** The embedded fonts' and the output intent's bytes, read once per process. */
let assets: Promise<{ regular: Buffer; bold: Buffer; srgb: Buffer }> | null = null
function pdfAssets() {
  assets ??= (async () => {
    const fonts = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf')
    // pdfkit exports no package.json; its entry point lies in js/ beside data/
    const pdfkit = dirname(require.resolve('pdfkit'))
    const [regular, bold, srgb] = await Promise.all([
      readFile(join(fonts, 'DejaVuSans.ttf')),
      readFile(join(fonts, 'DejaVuSans-Bold.ttf')),
      readFile(join(pdfkit, 'data', 'sRGB_IEC61966_2_1.icc')),
    ])
    return { regular, bold, srgb }
  })()
  return assets
}

export const PAGE = { width: 595.28, height: 841.89, top: 800, bottom: 80, footer: 40 } as const

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
  y: number = PAGE.top
  page: PDFPage
  pages: PDFPage[] = []
  /** Drawn again at the top of each further page (the table's header row while lines run). */
  continuation: (() => void) | null = null

  constructor(
    private pdf: PDFDocument,
    private font: PDFFont,
    private bold: PDFFont
  ) {
    this.page = this.addPage()
  }

  private addPage() {
    const page = this.pdf.addPage([PAGE.width, PAGE.height])
    this.pages.push(page)
    return page
  }

  /** Makes room for `height` points: a new page when they would reach the footer. */
  need(height: number) {
    if (this.y - height >= PAGE.bottom) return
    this.page = this.addPage()
    this.y = PAGE.top
    this.continuation?.()
  }

  text(value: string, x: number, options: { size?: number; bold?: boolean; right?: boolean } = {}) {
    const size = options.size ?? 9
    const font = options.bold ? this.bold : this.font
    const left = options.right ? x - font.widthOfTextAtSize(value, size) : x
    this.page.drawText(value, { x: left, y: this.y, size, font, color: rgb(0.1, 0.1, 0.1) })
  }

  /** Writes `value` wrapped to `width` points, one line per `gap`. */
  paragraph(
    value: string,
    x: number,
    width: number,
    options: { size?: number; gap?: number } = {}
  ) {
    const size = options.size ?? 8
    const gap = options.gap ?? 11
    let line = ''
    const flush = () => {
      this.need(gap)
      this.text(line, x, { size })
      this.line(gap)
    }
    for (const word of value.split(/\s+/)) {
      const candidate = line ? `${line} ${word}` : word
      if (line && this.font.widthOfTextAtSize(candidate, size) > width) {
        flush()
        line = word
      } else line = candidate
    }
    if (line) flush()
  }

  line(gap = 13) {
    this.y -= gap
  }
}

/** The GiroCode as an image (one pixel per module, 4 modules of quiet zone), drawn `size` points wide. */
function drawQrCode(
  pdf: PDFDocument,
  page: PDFPage,
  payload: string,
  x: number,
  y: number,
  size: number
) {
  const modules = QRCode.create(payload, { errorCorrectionLevel: 'M' }).modules
  const quiet = 4
  const width = modules.size + 2 * quiet
  const pixels = new Uint8Array(width * width).fill(255)
  for (let row = 0; row < modules.size; row++)
    for (let col = 0; col < modules.size; col++)
      if (modules.get(row, col)) pixels[(row + quiet) * width + col + quiet] = 0
  const image = pdf.context.flateStream(pixels, {
    Type: 'XObject',
    Subtype: 'Image',
    Width: width,
    Height: width,
    ColorSpace: 'DeviceGray',
    BitsPerComponent: 8,
    Interpolate: false,
  })
  const name = page.node.newXObject('GiroCode', pdf.context.register(image))
  page.pushOperators(
    pushGraphicsState(),
    concatTransformationMatrix(size, 0, 0, size, x, y),
    drawObject(name),
    popGraphicsState()
  )
}

function writePaymentTerms(
  pdf: PDFDocument,
  write: Writer,
  invoice: PdfInvoice,
  terms: PdfPaymentTerms
) {
  write.line(6)
  if (terms.kind === 'sepa_debit') {
    write.need(60)
    write.text('Zahlung per SEPA-Lastschrift', 50, { bold: true })
    write.line()
    write.paragraph(
      `Den Rechnungsbetrag von ${euro(invoice.grossCents)} ziehen wir am ${germanDate(terms.collectionOn)} per SEPA-Lastschrift von Ihrem Konto ${terms.maskedIban} ein. Mandatsreferenz: ${terms.mandateReference}. Gläubiger-Identifikationsnummer: ${terms.creditorId}. Bitte sorgen Sie für ausreichende Deckung.`,
      50,
      495
    )
    return
  }
  const qrSize = 96
  write.need(qrSize + 24)
  const top = write.y
  write.text('Zahlung per Überweisung', 50, { bold: true })
  write.line()
  for (const row of [
    `Zahlbar ohne Abzug bis ${germanDate(invoice.dueDate)}.`,
    `Empfänger: ${terms.creditorName}`,
    `IBAN: ${terms.creditorIban.replace(/(.{4})(?=.)/g, '$1 ')}`,
    `BIC: ${terms.creditorBic}`,
    `Betrag: ${euro(invoice.grossCents)}`,
    `Verwendungszweck: ${terms.remittance}`,
  ]) {
    write.text(row, 50)
    write.line(12)
  }
  write.paragraph(
    'Mit dem QR-Code (GiroCode) übernimmt Ihre Banking-App Empfänger, IBAN, Betrag und Verwendungszweck.',
    50,
    330,
    { size: 7, gap: 10 }
  )
  drawQrCode(pdf, write.page, terms.giroCodePayload, 545 - qrSize, top - qrSize + 9, qrSize)
  write.y = Math.min(write.y, top - qrSize)
}

export async function renderInvoicePdf(
  invoice: PdfInvoice,
  xml: string,
  seller: InvoicingConfig['seller']
): Promise<Uint8Array> {
  const { regular, bold: boldBytes, srgb } = await pdfAssets()
  const pdf = await PDFDocument.create({ updateMetadata: false })
  pdf.registerFontkit(fontkit)
  // Fixed subset names (not pdf-lib's random suffix): the same invoice renders the same bytes
  const font = await pdf.embedFont(regular, { subset: true, customName: 'FCAAAA+DejaVuSans' })
  const bold = await pdf.embedFont(boldBytes, {
    subset: true,
    customName: 'FCAAAB+DejaVuSans-Bold',
  })
  const write = new Writer(pdf, font, bold)

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
  const tableHeader = () => {
    write.text('Pos.', 50, { bold: true })
    write.text('Leistung', 80, { bold: true })
    write.text('Menge', 400, { bold: true, right: true })
    write.text('USt', 460, { bold: true, right: true })
    write.text('Netto', 545, { bold: true, right: true })
    write.line()
  }
  write.need(26)
  tableHeader()
  write.continuation = () => {
    write.text(`${invoice.title} ${invoice.number} (Fortsetzung)`, 50, { bold: true })
    write.line(20)
    tableHeader()
  }
  for (const line of invoice.lines) {
    write.need(13)
    write.text(String(line.position), 50)
    write.text(line.description, 80)
    write.text(String(invoice.quantities[line.position] ?? 1), 400, { right: true })
    write.text(line.vatCategory === 'O' ? '–' : percent(line.vatRateBp), 460, { right: true })
    write.text(euro(line.netCents), 545, { right: true })
    write.line()
  }
  write.continuation = () => {
    write.text(`${invoice.title} ${invoice.number} (Fortsetzung)`, 50, { bold: true })
    write.line(20)
  }
  // The totals stay together
  write.need(8 + 13 * (invoice.breakdown.length + 2))
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
  for (const note of invoice.notes) write.paragraph(note, 50, 495)
  if (invoice.grossCents > 0) {
    if (invoice.paymentTerms) writePaymentTerms(pdf, write, invoice, invoice.paymentTerms)
    else
      write.paragraph(
        `Zahlbar ohne Abzug bis ${germanDate(invoice.dueDate)} auf IBAN ${seller.iban}, Verwendungszweck ${invoice.number}.`,
        50,
        495
      )
  }
  write.pages.forEach((page, index) => {
    const footer = (value: string, x: number, right = false) =>
      page.drawText(value, {
        x: right ? x - font.widthOfTextAtSize(value, 7) : x,
        y: PAGE.footer,
        size: 7,
        font,
        color: rgb(0.1, 0.1, 0.1),
      })
    footer(
      `${seller.name} · ${seller.registerEntry} · USt-IdNr. ${seller.vatId} · ${seller.email}`,
      50
    )
    footer(`Seite ${index + 1} von ${write.pages.length}`, 545, true)
  })

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
  // PDF/A output intent: the colours (DeviceRGB text, DeviceGray QR code) are sRGB
  const profile = pdf.context.flateStream(srgb, { N: 3 })
  const intent = pdf.context.obj({
    Type: 'OutputIntent',
    S: 'GTS_PDFA1',
    OutputConditionIdentifier: PDFString.of('sRGB IEC61966-2.1'),
    Info: PDFString.of('sRGB IEC61966-2.1'),
    RegistryName: PDFString.of('http://www.color.org'),
    DestOutputProfile: pdf.context.register(profile),
  })
  pdf.catalog.set(PDFName.of('OutputIntents'), pdf.context.obj([pdf.context.register(intent)]))
  // A fixed file identifier derived from the number keeps rendering deterministic
  const id = PDFString.of(invoice.number)
  pdf.context.trailerInfo.ID = pdf.context.obj([id, id])
  return pdf.save({ useObjectStreams: false })
}
