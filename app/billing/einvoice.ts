import logger from '@adonisjs/core/services/logger'
import { InvoiceService, type Invoice } from '@e-invoice-eu/core'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import {
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFName,
  PDFNumber,
  PDFRawStream,
  PDFRef,
  PDFString,
  decodePDFRawStream,
} from 'pdf-lib'
import type { InvoicingConfig } from '#config/invoicing'
import { centsToDecimal } from '#billing/invoice_arithmetic'
import { VAT_RULES, type VatTreatment } from '#billing/vat_rules'

/**
 * EN 16931 e-invoices made by the maintained library @e-invoice-eu/core (its JSON route): our
 * invoice model becomes the library's internal format (UBL-shaped JSON, business terms named
 * below), and the library writes
 * - the XRechnung 3.0 CII XML we store (format `XRECHNUNG-CII`), and
 * - the ZUGFeRD/Factur-X profile EN 16931 PDF/A-3 (format `Factur-X-EN16931`): our own PDF
 *   (invoice_pdf.ts, fonts embedded) passed in, the CII XML attached as factur-x.xml
 *   (AFRelationship Alternative), XMP with pdfaid part 3 and the Factur-X extension schema, an
 *   sRGB output intent.
 * Two things the library leaves out are set afterwards on its PDF (see finishPdfA below).
 */

export interface CiiLine {
  position: number
  description: string
  /** Printed quantity (calls, seats, numbers); the XML bills 1 unit (C62) at the line amount. */
  netCents: number
  vatCategory: 'S' | 'AE' | 'O'
  vatRateBp: number
}

/**
 * BG-16 payment instructions. A SEPA direct debit (code 59) names the mandate (BT-89), our creditor
 * ID (BT-90) and the debited account (BT-91, the full IBAN: BR-DE-20 checks it);
 * a credit transfer (code 58) names the account to pay to (BT-84, BR-DE-19 checks the IBAN).
 */
export type CiiPayment =
  | { kind: 'sepa_debit'; mandateReference: string; creditorId: string; debtorIban: string }
  | { kind: 'bank_transfer'; iban: string; bic: string | null; accountName: string }

/** A Leitweg-ID (XRechnung buyer reference of German public bodies), e.g. 04011000-12345-67. */
export const LEITWEG_ID = /^\d{2,12}(-[A-Za-z0-9]{1,30})?-\d{2}$/

export interface CiiInvoice {
  number: string
  typeCode: '380' | '384'
  issueDate: string
  dueDate: string
  periodStart: string
  periodEnd: string
  currency: string
  /** BT-10; XRechnung requires one (BR-DE-15): the Leitweg-ID or our customer number */
  buyerReference: string
  buyerId: string
  buyerName: string
  buyerStreet: string
  buyerPostalCode: string
  buyerCity: string
  buyerCountry: string
  buyerVatId: string | null
  /**
   * BT-49 (XRechnung requires the buyer's electronic address): a Leitweg-ID buyer reference is
   * sent as scheme 0204, otherwise this e-mail address (scheme EM).
   */
  buyerEmail: string | null
  vatTreatment: VatTreatment
  lines: CiiLine[]
  breakdown: Array<{
    category: 'S' | 'AE' | 'O'
    rateBp: number
    basisCents: number
    vatCents: number
  }>
  netCents: number
  vatCents: number
  grossCents: number
  notes: string[]
  precedingInvoice: { number: string; issueDate: string } | null
  /** Absent: a credit transfer to the seller's account of the invoicing settings. */
  payment?: CiiPayment | null
}

export const FACTURX_FILENAME = 'factur-x.xml'

const require = createRequire(import.meta.url)

function percent(rateBp: number) {
  return (rateBp / 100).toFixed(2)
}

type UblInvoice = Invoice['ubl:Invoice']
type Currency = NonNullable<UblInvoice['cac:LegalMonetaryTotal']['cbc:PayableAmount@currencyID']>

/** Our invoice in the library's internal format (UBL element names, EN 16931 semantics). */
export function toEInvoiceJson(invoice: CiiInvoice, seller: InvoicingConfig['seller']): Invoice {
  const rule = VAT_RULES[invoice.vatTreatment]
  const currency = invoice.currency as Currency
  const amount = (cents: number) => centsToDecimal(cents)
  const payment: CiiPayment = invoice.payment ?? {
    kind: 'bank_transfer',
    iban: seller.iban,
    bic: null,
    accountName: seller.name,
  }
  const debit = payment.kind === 'sepa_debit' ? payment : null
  const germanDue = invoice.dueDate.split('-').reverse().join('.')
  const compact = (iban: string) => iban.replace(/\s+/g, '')

  const data: UblInvoice = {
    // BT-23 business process (XRechnung recommends it); BT-24 is set by the library per format
    'cbc:ProfileID': 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0',
    'cbc:ID': invoice.number,
    'cbc:IssueDate': invoice.issueDate,
    ...(invoice.grossCents > 0 ? { 'cbc:DueDate': invoice.dueDate } : {}),
    'cbc:InvoiceTypeCode': invoice.typeCode,
    ...(invoice.notes.length ? { 'cbc:Note': invoice.notes } : {}),
    'cbc:DocumentCurrencyCode': currency,
    'cbc:BuyerReference': invoice.buyerReference,
    // BG-14 invoicing period (Leistungszeitraum, § 14(4) Nr. 6 UStG)
    'cac:InvoicePeriod': { 'cbc:StartDate': invoice.periodStart, 'cbc:EndDate': invoice.periodEnd },
    ...(invoice.precedingInvoice
      ? {
          'cac:BillingReference': [
            {
              'cac:InvoiceDocumentReference': {
                'cbc:ID': invoice.precedingInvoice.number,
                'cbc:IssueDate': invoice.precedingInvoice.issueDate,
              },
            },
          ],
        }
      : {}),
    'cac:AccountingSupplierParty': {
      'cac:Party': {
        // BT-34 seller electronic address
        'cbc:EndpointID': seller.email,
        'cbc:EndpointID@schemeID': 'EM',
        'cac:PostalAddress': {
          'cbc:StreetName': seller.street,
          'cbc:CityName': seller.city,
          'cbc:PostalZone': seller.postalCode,
          'cac:Country': { 'cbc:IdentificationCode': seller.country as never },
        },
        ...(rule.showsSellerVatId
          ? {
              'cac:PartyTaxScheme': [
                { 'cbc:CompanyID': seller.vatId, 'cac:TaxScheme': { 'cbc:ID': 'VAT' } },
              ],
            }
          : {}),
        'cac:PartyLegalEntity': {
          'cbc:RegistrationName': seller.name,
          'cbc:CompanyID': seller.registerEntry,
        },
        // BG-6 seller contact (BR-DE-2, -5, -6, -7)
        'cac:Contact': {
          'cbc:Name': 'Buchhaltung',
          'cbc:Telephone': seller.phone,
          'cbc:ElectronicMail': seller.email,
        },
      },
    },
    'cac:AccountingCustomerParty': {
      'cac:Party': {
        // BT-49: a Leitweg-ID as scheme 0204, else the buyer's e-mail address
        ...(LEITWEG_ID.test(invoice.buyerReference)
          ? { 'cbc:EndpointID': invoice.buyerReference, 'cbc:EndpointID@schemeID': '0204' }
          : invoice.buyerEmail
            ? { 'cbc:EndpointID': invoice.buyerEmail, 'cbc:EndpointID@schemeID': 'EM' }
            : {}),
        'cac:PartyIdentification': { 'cbc:ID': invoice.buyerId },
        'cac:PostalAddress': {
          'cbc:StreetName': invoice.buyerStreet,
          'cbc:CityName': invoice.buyerCity,
          'cbc:PostalZone': invoice.buyerPostalCode,
          'cac:Country': { 'cbc:IdentificationCode': invoice.buyerCountry as never },
        },
        ...(rule.showsBuyerVatId && invoice.buyerVatId
          ? {
              'cac:PartyTaxScheme': {
                'cbc:CompanyID': invoice.buyerVatId,
                'cac:TaxScheme': { 'cbc:ID': 'VAT' },
              },
            }
          : {}),
        'cac:PartyLegalEntity': { 'cbc:RegistrationName': invoice.buyerName },
      },
    },
    // BT-90 creditor ID: the library writes it from the payee's SEPA identifier
    ...(debit
      ? {
          'cac:PayeeParty': {
            'cac:PartyIdentification': { 'cbc:ID': debit.creditorId, 'cbc:ID@schemeID': 'SEPA' },
            'cac:PartyName': { 'cbc:Name': seller.name },
          },
        }
      : {}),
    'cac:PaymentMeans': [
      debit
        ? // 59: SEPA direct debit (BG-19: BT-89 mandate, BT-91 debited account)
          {
            'cbc:PaymentMeansCode': '59',
            'cbc:PaymentID': invoice.number,
            'cac:PaymentMandate': {
              'cbc:ID': debit.mandateReference,
              'cac:PayerFinancialAccount': { 'cbc:ID': compact(debit.debtorIban) },
            },
          }
        : // 58: SEPA credit transfer (BG-17)
          {
            'cbc:PaymentMeansCode': '58',
            'cbc:PaymentID': invoice.number,
            'cac:PayeeFinancialAccount': {
              'cbc:ID': compact(payment.kind === 'bank_transfer' ? payment.iban : ''),
              'cbc:Name': payment.kind === 'bank_transfer' ? payment.accountName : seller.name,
              ...(payment.kind === 'bank_transfer' && payment.bic
                ? { 'cac:FinancialInstitutionBranch': { 'cbc:ID': payment.bic } }
                : {}),
            },
          },
    ] as UblInvoice['cac:PaymentMeans'],
    ...(invoice.grossCents > 0
      ? {
          'cac:PaymentTerms': {
            'cbc:Note': debit
              ? `Wird per SEPA-Lastschrift eingezogen (Mandat ${debit.mandateReference})`
              : `Zahlbar ohne Abzug bis ${germanDue}`,
          },
        }
      : {}),
    'cac:TaxTotal': [
      {
        'cbc:TaxAmount': amount(invoice.vatCents),
        'cbc:TaxAmount@currencyID': currency,
        'cac:TaxSubtotal': invoice.breakdown.map((group) => ({
          'cbc:TaxableAmount': amount(group.basisCents),
          'cbc:TaxableAmount@currencyID': currency,
          'cbc:TaxAmount': amount(group.vatCents),
          'cbc:TaxAmount@currencyID': currency,
          'cac:TaxCategory': {
            'cbc:ID': group.category,
            // BR-DE-14: every VAT breakdown has a rate (0 for category O)
            'cbc:Percent': group.category === 'O' ? '0.00' : percent(group.rateBp),
            ...(group.category !== 'S' && rule.exemptionCode
              ? { 'cbc:TaxExemptionReasonCode': rule.exemptionCode }
              : {}),
            ...(group.category !== 'S' && rule.note ? { 'cbc:TaxExemptionReason': rule.note } : {}),
            'cac:TaxScheme': { 'cbc:ID': 'VAT' },
          },
        })),
      },
    ] as UblInvoice['cac:TaxTotal'],
    'cac:LegalMonetaryTotal': {
      'cbc:LineExtensionAmount': amount(invoice.netCents),
      'cbc:LineExtensionAmount@currencyID': currency,
      'cbc:TaxExclusiveAmount': amount(invoice.netCents),
      'cbc:TaxExclusiveAmount@currencyID': currency,
      'cbc:TaxInclusiveAmount': amount(invoice.grossCents),
      'cbc:TaxInclusiveAmount@currencyID': currency,
      'cbc:PayableAmount': amount(invoice.grossCents),
      'cbc:PayableAmount@currencyID': currency,
    },
    'cac:InvoiceLine': invoice.lines.map((line) => ({
      'cbc:ID': String(line.position),
      // BR-27: the item price is never negative; a cancelled line bills -1 unit
      'cbc:InvoicedQuantity': line.netCents < 0 ? '-1' : '1',
      'cbc:InvoicedQuantity@unitCode': 'C62',
      'cbc:LineExtensionAmount': amount(line.netCents),
      'cbc:LineExtensionAmount@currencyID': currency,
      'cac:Item': {
        'cbc:Name': line.description,
        'cac:ClassifiedTaxCategory': {
          'cbc:ID': line.vatCategory,
          // BR-O-05: a line of category O has no rate
          ...(line.vatCategory === 'O' ? {} : { 'cbc:Percent': percent(line.vatRateBp) }),
          'cac:TaxScheme': { 'cbc:ID': 'VAT' },
        },
      },
      'cac:Price': {
        'cbc:PriceAmount': amount(Math.abs(line.netCents)),
        'cbc:PriceAmount@currencyID': currency,
      },
    })) as UblInvoice['cac:InvoiceLine'],
  } as UblInvoice
  return { 'ubl:Invoice': data }
}

/** The library's log: its warnings and errors (e.g. which JSON field it refused) go to ours. */
const libraryLogger = {
  log: () => {},
  warn: (message: string) => logger.warn(`e-invoice-eu: ${message}`),
  error: (message: string) => logger.error(`e-invoice-eu: ${message}`),
}

/**
 * Two business terms @e-invoice-eu/core 2.3.4 cannot put into CII from its JSON, completed on its
 * XML (the stored one and the one attached to the PDF alike):
 * - BT-90 (ram:CreditorReferenceID) is written only from the payee's SEPA identifier, so a direct
 *   debit is handed to it with the seller as payee (BG-10); a payee equal to the seller breaks
 *   BR-17, so that payee party is taken out again.
 * - BG-3, the preceding invoice of a Stornorechnung: its CII mapping reads cbc:ID directly under
 *   cac:BillingReference while its JSON schema only allows cac:InvoiceDocumentReference there, so
 *   nothing is written (BR-DE-26 fails); ram:InvoiceReferencedDocument is added after the totals,
 *   where the CII schema's sequence has it.
 */
function completeXml(xml: string, invoice: CiiInvoice) {
  let result = xml
  if (invoice.payment?.kind === 'sepa_debit') {
    const payee = /\n?[ \t]*<ram:PayeeTradeParty>[\s\S]*?<\/ram:PayeeTradeParty>/
    if (!payee.test(result)) throw new Error('e-invoice-eu wrote no payee for the creditor ID')
    result = result.replace(payee, '')
  }
  if (invoice.precedingInvoice && !result.includes('<ram:InvoiceReferencedDocument>')) {
    const totals = '</ram:SpecifiedTradeSettlementHeaderMonetarySummation>'
    if (!result.includes(totals)) throw new Error('e-invoice-eu wrote no document totals')
    const { number, issueDate } = invoice.precedingInvoice
    result = result.replace(
      totals,
      `${totals}<ram:InvoiceReferencedDocument><ram:IssuerAssignedID>${escapeXml(number)}</ram:IssuerAssignedID><ram:FormattedIssueDateTime><qdt:DateTimeString format="102">${issueDate.replace(/-/g, '')}</qdt:DateTimeString></ram:FormattedIssueDateTime></ram:InvoiceReferencedDocument>`
    )
  }
  return result
}

/** Character data as xmlbuilder2 (the library's XML writer) escapes it. */
const escapeText = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function escapeXml(text: string) {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

/** The XRechnung 3.0 CII XML (the e-invoice we store), made by the library. */
export async function buildXRechnungXml(
  invoice: CiiInvoice,
  seller: InvoicingConfig['seller']
): Promise<string> {
  const xml = await new InvoiceService(libraryLogger).generate(toEInvoiceJson(invoice, seller), {
    format: 'XRECHNUNG-CII',
    lang: 'de-de',
    noWarnings: true,
  })
  return completeXml(typeof xml === 'string' ? xml : new TextDecoder().decode(xml), invoice)
}

/**
 * The ZUGFeRD/Factur-X profile EN 16931 PDF/A-3: the library attaches its CII XML to our rendered
 * PDF and writes the PDF/A-3 metadata; finishPdfA completes what it leaves out.
 */
export async function buildFacturXPdf(
  invoice: CiiInvoice,
  seller: InvoicingConfig['seller'],
  renderedPdf: Uint8Array
): Promise<Uint8Array> {
  const pdf = await new InvoiceService(libraryLogger).generate(toEInvoiceJson(invoice, seller), {
    format: 'Factur-X-EN16931',
    lang: 'de-de',
    noWarnings: true,
    pdf: { buffer: renderedPdf, filename: `${invoice.number}.pdf`, mimetype: 'application/pdf' },
  })
  if (typeof pdf === 'string') throw new Error('e-invoice-eu returned no PDF for Factur-X')
  return finishPdfA(pdf, seller.name, (xml) => completeXml(xml, invoice))
}

const xmpText = (xmp: string, element: string) => {
  const match = new RegExp(`<${element}>(?:\\s*<rdf:(?:Alt|Seq)>\\s*<rdf:li[^>]*>)?([^<]*)<`).exec(
    xmp
  )
  return match ? match[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&') : null
}

/** The ICC's sRGB2014 v2 profile that the npm package pdfkit ships for its own PDF/A output. */
let srgb: Promise<Buffer> | null = null
function sRgbProfile() {
  // pdfkit exports no package.json; its entry point lies in js/ beside data/
  srgb ??= readFile(join(dirname(require.resolve('pdfkit')), 'data', 'sRGB_IEC61966_2_1.icc'))
  return srgb
}

/**
 * What @e-invoice-eu/core 2.3 leaves out of its PDF/A-3, set on its output:
 * - its output intent's ICC stream lacks /N (required for an ICC profile stream): the intent is
 *   replaced by one with our sRGB profile (N 3, registry and condition named);
 * - its XMP is not UTF-8 (see below);
 * - its document information dictionary disagrees with its XMP (Title, Creator, Producer,
 *   Keywords; PDF/A wants the two equal): the Info entries are set from the XMP.
 */
async function finishPdfA(
  bytes: Uint8Array,
  sellerName: string,
  fixXml: (xml: string) => string
): Promise<Uint8Array> {
  const pdf = await PDFDocument.load(bytes, { updateMetadata: false })
  // The attached factur-x.xml gets the same correction as the stored XML
  const files = pdf.catalog.lookupMaybe(PDFName.of('AF'), PDFArray)
  const fileSpec = files
    ?.asArray()
    .map((ref) => pdf.context.lookup(ref, PDFDict))
    .find((spec) => spec.lookup(PDFName.of('F'))?.toString() === `(${FACTURX_FILENAME})`)
  if (!fileSpec) throw new Error('Factur-X PDF without factur-x.xml')
  const embedded = fileSpec.lookup(PDFName.of('EF'), PDFDict)
  const streamRef = embedded.get(PDFName.of('F'))
  const stream = pdf.context.lookup(streamRef)
  if (!(streamRef instanceof PDFRef) || !(stream instanceof PDFRawStream))
    throw new Error('factur-x.xml is not an embedded file stream')
  const xml = new TextDecoder().decode(decodePDFRawStream(stream).decode())
  const fixed = fixXml(xml)
  if (fixed !== xml) {
    const content = new TextEncoder().encode(fixed)
    const params = stream.dict.lookup(PDFName.of('Params'), PDFDict)
    params.set(PDFName.of('Size'), PDFNumber.of(content.length))
    const replacement = pdf.context.flateStream(content, {})
    for (const [key, value] of stream.dict.entries())
      if (key !== PDFName.of('Length') && key !== PDFName.of('Filter'))
        replacement.dict.set(key, value)
    pdf.context.assign(streamRef, replacement)
  }

  const intents = pdf.catalog.lookupMaybe(PDFName.of('OutputIntents'), PDFArray)
  if (!intents) throw new Error('Factur-X PDF without output intent')
  for (const ref of intents.asArray()) {
    const intent = pdf.context.lookup(ref, PDFDict)
    const profileRef = intent.get(PDFName.of('DestOutputProfile'))
    if (profileRef instanceof PDFRef) pdf.context.delete(profileRef)
    if (ref instanceof PDFRef) pdf.context.delete(ref)
  }
  const profile = pdf.context.flateStream(await sRgbProfile(), { N: 3 })
  const intent = pdf.context.obj({
    Type: 'OutputIntent',
    S: 'GTS_PDFA1',
    OutputConditionIdentifier: PDFString.of('sRGB IEC61966-2.1'),
    Info: PDFString.of('sRGB IEC61966-2.1'),
    RegistryName: PDFString.of('http://www.color.org'),
    DestOutputProfile: pdf.context.register(profile),
  })
  pdf.catalog.set(PDFName.of('OutputIntents'), pdf.context.obj([pdf.context.register(intent)]))

  const metadata = pdf.catalog.lookup(PDFName.of('Metadata'))
  if (!(metadata instanceof PDFRawStream)) throw new Error('Factur-X PDF without XMP')
  // The library writes its XMP string into the stream one byte per character (UTF-16 code unit
  // cut to 8 bits), not as UTF-8: read it back that way, restore the seller's name (the only text
  // of ours in it) and store it as UTF-8, unfiltered (PDF/A)
  const written = Buffer.from(decodePDFRawStream(metadata).decode()).toString('latin1')
  const asWritten = (text: string) =>
    Array.from(text, (char) => String.fromCharCode(char.charCodeAt(0) & 0xff)).join('')
  const xmp = written
    .replace(/<\?xpacket begin="[^"]*"/, '<?xpacket begin="\uFEFF"')
    .split(escapeText(asWritten(sellerName)))
    .join(escapeText(sellerName))
  const xmpStream = pdf.context.stream(new TextEncoder().encode(xmp), {
    Type: 'Metadata',
    Subtype: 'XML',
  })
  pdf.context.assign(pdf.catalog.get(PDFName.of('Metadata')) as PDFRef, xmpStream)
  const title = xmpText(xmp, 'dc:title')
  const creatorTool = xmpText(xmp, 'xmp:CreatorTool')
  const producer = xmpText(xmp, 'pdf:Producer')
  if (title) pdf.setTitle(title)
  if (creatorTool) pdf.setCreator(creatorTool)
  if (producer) pdf.setProducer(producer)
  pdf.context.lookup(pdf.context.trailerInfo.Info, PDFDict).delete(PDFName.of('Keywords'))
  return pdf.save({ useObjectStreams: false })
}
