import type { InvoicingConfig } from '#config/invoicing'
import { centsToDecimal } from '#billing/invoice_arithmetic'
import { VAT_RULES, type VatTreatment } from '#billing/vat_rules'

/**
 * The invoice as UN/CEFACT Cross Industry Invoice (D16B), EN 16931 semantics. Element order
 * follows the CII schema's sequences; business terms (BT-/BG-) are named where they are written.
 * Two guidelines from the same data: XRechnung 3.0 (the XML we store) and Factur-X/ZUGFeRD profile
 * EN 16931 (the XML inside the PDF).
 */
export const GUIDELINES = {
  xrechnung: 'urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0',
  facturx: 'urn:cen.eu:en16931:2017',
} as const
export type Guideline = keyof typeof GUIDELINES

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

export function escapeXml(text: string) {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

const date102 = (isoDate: string) => isoDate.replace(/-/g, '')

function percent(rateBp: number) {
  const whole = Math.floor(rateBp / 100)
  const fraction = rateBp % 100
  return fraction
    ? `${whole}.${String(fraction).padStart(2, '0').replace(/0$/, '')}`
    : `${whole}.00`
}

/** One ram:ApplicableTradeTax; category O carries no rate (BR-O-05, BR-O-09). */
function tradeTax(
  category: 'S' | 'AE' | 'O',
  rateBp: number,
  treatment: VatTreatment,
  amounts?: { basisCents: number; vatCents: number }
) {
  const rule = VAT_RULES[treatment]
  const parts: string[] = []
  if (amounts)
    parts.push(`<ram:CalculatedAmount>${centsToDecimal(amounts.vatCents)}</ram:CalculatedAmount>`)
  parts.push('<ram:TypeCode>VAT</ram:TypeCode>')
  if (amounts && rule.note && category !== 'S')
    parts.push(`<ram:ExemptionReason>${escapeXml(rule.note)}</ram:ExemptionReason>`)
  if (amounts)
    parts.push(`<ram:BasisAmount>${centsToDecimal(amounts.basisCents)}</ram:BasisAmount>`)
  parts.push(`<ram:CategoryCode>${category}</ram:CategoryCode>`)
  if (amounts && rule.exemptionCode && category !== 'S')
    parts.push(`<ram:ExemptionReasonCode>${rule.exemptionCode}</ram:ExemptionReasonCode>`)
  // BR-O-05: a line of category O has no rate; BR-DE-14: every VAT breakdown has one (0 for O)
  if (category !== 'O')
    parts.push(`<ram:RateApplicablePercent>${percent(rateBp)}</ram:RateApplicablePercent>`)
  else if (amounts) parts.push('<ram:RateApplicablePercent>0.00</ram:RateApplicablePercent>')
  return `<ram:ApplicableTradeTax>${parts.join('')}</ram:ApplicableTradeTax>`
}

export function buildCiiXml(
  invoice: CiiInvoice,
  seller: InvoicingConfig['seller'],
  guideline: Guideline
): string {
  const rule = VAT_RULES[invoice.vatTreatment]
  const lines = invoice.lines.map((line) => {
    // BR-27: the item price is never negative; a cancelled line bills -1 unit
    const quantity = line.netCents < 0 ? '-1' : '1'
    return [
      '<ram:IncludedSupplyChainTradeLineItem>',
      `<ram:AssociatedDocumentLineDocument><ram:LineID>${line.position}</ram:LineID></ram:AssociatedDocumentLineDocument>`,
      `<ram:SpecifiedTradeProduct><ram:Name>${escapeXml(line.description)}</ram:Name></ram:SpecifiedTradeProduct>`,
      `<ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>${centsToDecimal(Math.abs(line.netCents))}</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>`,
      `<ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">${quantity}</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>`,
      '<ram:SpecifiedLineTradeSettlement>',
      tradeTax(line.vatCategory, line.vatRateBp, invoice.vatTreatment),
      `<ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>${centsToDecimal(line.netCents)}</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation>`,
      '</ram:SpecifiedLineTradeSettlement>',
      '</ram:IncludedSupplyChainTradeLineItem>',
    ].join('')
  })

  const sellerVat = rule.showsSellerVatId
    ? `<ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">${escapeXml(seller.vatId)}</ram:ID></ram:SpecifiedTaxRegistration>`
    : ''
  const buyerVat =
    rule.showsBuyerVatId && invoice.buyerVatId
      ? `<ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">${escapeXml(invoice.buyerVatId)}</ram:ID></ram:SpecifiedTaxRegistration>`
      : ''
  const address = (postal: string, street: string, city: string, country: string) =>
    `<ram:PostalTradeAddress><ram:PostcodeCode>${escapeXml(postal)}</ram:PostcodeCode><ram:LineOne>${escapeXml(street)}</ram:LineOne><ram:CityName>${escapeXml(city)}</ram:CityName><ram:CountryID>${escapeXml(country)}</ram:CountryID></ram:PostalTradeAddress>`

  const notes = invoice.notes
    .map(
      (note) => `<ram:IncludedNote><ram:Content>${escapeXml(note)}</ram:Content></ram:IncludedNote>`
    )
    .join('')
  const preceding = invoice.precedingInvoice
    ? `<ram:InvoiceReferencedDocument><ram:IssuerAssignedID>${escapeXml(invoice.precedingInvoice.number)}</ram:IssuerAssignedID><ram:FormattedIssueDateTime><qdt:DateTimeString format="102">${date102(invoice.precedingInvoice.issueDate)}</qdt:DateTimeString></ram:FormattedIssueDateTime></ram:InvoiceReferencedDocument>`
    : ''
  const payment: CiiPayment = invoice.payment ?? {
    kind: 'bank_transfer',
    iban: seller.iban,
    bic: null,
    accountName: seller.name,
  }
  const debit = payment.kind === 'sepa_debit' ? payment : null
  const germanDue = invoice.dueDate.split('-').reverse().join('.')
  const paymentTerms =
    invoice.grossCents > 0
      ? [
          '<ram:SpecifiedTradePaymentTerms>',
          `<ram:Description>${debit ? `Wird per SEPA-Lastschrift eingezogen (Mandat ${escapeXml(debit.mandateReference)})` : `Zahlbar ohne Abzug bis ${germanDue}`}</ram:Description>`,
          `<ram:DueDateDateTime><udt:DateTimeString format="102">${date102(invoice.dueDate)}</udt:DateTimeString></ram:DueDateDateTime>`,
          debit
            ? `<ram:DirectDebitMandateID>${escapeXml(debit.mandateReference)}</ram:DirectDebitMandateID>`
            : '',
          '</ram:SpecifiedTradePaymentTerms>',
        ].join('')
      : ''
  const paymentMeans = debit
    ? // 59: SEPA direct debit (BG-19)
      `<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>59</ram:TypeCode><ram:PayerPartyDebtorFinancialAccount><ram:IBANID>${escapeXml(debit.debtorIban.replace(/\s+/g, ''))}</ram:IBANID></ram:PayerPartyDebtorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>`
    : payment.kind === 'bank_transfer'
      ? // 58: SEPA credit transfer (BG-17)
        `<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode><ram:PayeePartyCreditorFinancialAccount><ram:IBANID>${escapeXml(payment.iban.replace(/\s+/g, ''))}</ram:IBANID><ram:AccountName>${escapeXml(payment.accountName)}</ram:AccountName></ram:PayeePartyCreditorFinancialAccount>${payment.bic ? `<ram:PayeeSpecifiedCreditorFinancialInstitution><ram:BICID>${escapeXml(payment.bic)}</ram:BICID></ram:PayeeSpecifiedCreditorFinancialInstitution>` : ''}</ram:SpecifiedTradeSettlementPaymentMeans>`
      : ''
  const buyerEndpoint = LEITWEG_ID.test(invoice.buyerReference)
    ? `<ram:URIUniversalCommunication><ram:URIID schemeID="0204">${escapeXml(invoice.buyerReference)}</ram:URIID></ram:URIUniversalCommunication>`
    : invoice.buyerEmail
      ? `<ram:URIUniversalCommunication><ram:URIID schemeID="EM">${escapeXml(invoice.buyerEmail)}</ram:URIID></ram:URIUniversalCommunication>`
      : ''

  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100" xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">',
    '<rsm:ExchangedDocumentContext>',
    // BT-23 business process (XRechnung BR-DE-? recommends it; harmless for Factur-X)
    '<ram:BusinessProcessSpecifiedDocumentContextParameter><ram:ID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</ram:ID></ram:BusinessProcessSpecifiedDocumentContextParameter>',
    `<ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>${GUIDELINES[guideline]}</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>`,
    '</rsm:ExchangedDocumentContext>',
    '<rsm:ExchangedDocument>',
    `<ram:ID>${escapeXml(invoice.number)}</ram:ID>`,
    `<ram:TypeCode>${invoice.typeCode}</ram:TypeCode>`,
    `<ram:IssueDateTime><udt:DateTimeString format="102">${date102(invoice.issueDate)}</udt:DateTimeString></ram:IssueDateTime>`,
    notes,
    '</rsm:ExchangedDocument>',
    '<rsm:SupplyChainTradeTransaction>',
    ...lines,
    '<ram:ApplicableHeaderTradeAgreement>',
    `<ram:BuyerReference>${escapeXml(invoice.buyerReference)}</ram:BuyerReference>`,
    '<ram:SellerTradeParty>',
    `<ram:Name>${escapeXml(seller.name)}</ram:Name>`,
    `<ram:SpecifiedLegalOrganization><ram:ID>${escapeXml(seller.registerEntry)}</ram:ID></ram:SpecifiedLegalOrganization>`,
    `<ram:DefinedTradeContact><ram:DepartmentName>Buchhaltung</ram:DepartmentName><ram:TelephoneUniversalCommunication><ram:CompleteNumber>${escapeXml(seller.phone)}</ram:CompleteNumber></ram:TelephoneUniversalCommunication><ram:EmailURIUniversalCommunication><ram:URIID>${escapeXml(seller.email)}</ram:URIID></ram:EmailURIUniversalCommunication></ram:DefinedTradeContact>`,
    address(seller.postalCode, seller.street, seller.city, seller.country),
    `<ram:URIUniversalCommunication><ram:URIID schemeID="EM">${escapeXml(seller.email)}</ram:URIID></ram:URIUniversalCommunication>`,
    sellerVat,
    '</ram:SellerTradeParty>',
    '<ram:BuyerTradeParty>',
    `<ram:ID>${escapeXml(invoice.buyerId)}</ram:ID>`,
    `<ram:Name>${escapeXml(invoice.buyerName)}</ram:Name>`,
    address(invoice.buyerPostalCode, invoice.buyerStreet, invoice.buyerCity, invoice.buyerCountry),
    buyerEndpoint,
    buyerVat,
    '</ram:BuyerTradeParty>',
    '</ram:ApplicableHeaderTradeAgreement>',
    '<ram:ApplicableHeaderTradeDelivery/>',
    '<ram:ApplicableHeaderTradeSettlement>',
    debit
      ? `<ram:CreditorReferenceID>${escapeXml(debit.creditorId)}</ram:CreditorReferenceID>`
      : '',
    `<ram:PaymentReference>${escapeXml(invoice.number)}</ram:PaymentReference>`,
    `<ram:InvoiceCurrencyCode>${invoice.currency}</ram:InvoiceCurrencyCode>`,
    paymentMeans,
    ...invoice.breakdown.map((group) =>
      tradeTax(group.category, group.rateBp, invoice.vatTreatment, group)
    ),
    // BG-14 invoicing period (Leistungszeitraum, § 14(4) Nr. 6 UStG)
    `<ram:BillingSpecifiedPeriod><ram:StartDateTime><udt:DateTimeString format="102">${date102(invoice.periodStart)}</udt:DateTimeString></ram:StartDateTime><ram:EndDateTime><udt:DateTimeString format="102">${date102(invoice.periodEnd)}</udt:DateTimeString></ram:EndDateTime></ram:BillingSpecifiedPeriod>`,
    paymentTerms,
    '<ram:SpecifiedTradeSettlementHeaderMonetarySummation>',
    `<ram:LineTotalAmount>${centsToDecimal(invoice.netCents)}</ram:LineTotalAmount>`,
    `<ram:TaxBasisTotalAmount>${centsToDecimal(invoice.netCents)}</ram:TaxBasisTotalAmount>`,
    `<ram:TaxTotalAmount currencyID="${invoice.currency}">${centsToDecimal(invoice.vatCents)}</ram:TaxTotalAmount>`,
    `<ram:GrandTotalAmount>${centsToDecimal(invoice.grossCents)}</ram:GrandTotalAmount>`,
    `<ram:DuePayableAmount>${centsToDecimal(invoice.grossCents)}</ram:DuePayableAmount>`,
    '</ram:SpecifiedTradeSettlementHeaderMonetarySummation>',
    preceding,
    '</ram:ApplicableHeaderTradeSettlement>',
    '</rsm:SupplyChainTradeTransaction>',
    '</rsm:CrossIndustryInvoice>',
    '',
  ].join('\n')
}
