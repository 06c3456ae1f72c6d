import { EU_COUNTRIES } from '#accounts/vat_id'

/**
 * VAT on telecommunication services to business customers (B2B, § 3a(2) UStG: the service is
 * performed where the customer has its seat), as data. Each treatment names its EN 16931 VAT
 * category (UNTDID 5305), its rate in hundredths of a percent and the note the invoice must carry.
 */
export type VatTreatment = 'domestic' | 'reverse_charge' | 'not_taxable'

export interface VatRule {
  treatment: VatTreatment
  /** BT-118 / BT-151 */
  category: 'S' | 'AE' | 'O'
  /** 1900 = 19 % */
  rateBp: number
  /** BT-120, the exemption reason; also printed on the PDF. */
  note: string | null
  /** BT-121 (VATEX code list) */
  exemptionCode: string | null
  /** Whether the buyer's VAT ID is printed and sent (BT-48). */
  showsBuyerVatId: boolean
  /** Whether the seller's VAT ID is sent (BT-31); BR-O-02 forbids it for category O. */
  showsSellerVatId: boolean
}

export const VAT_RULES: Record<VatTreatment, VatRule> = {
  // § 12(1) UStG
  domestic: {
    treatment: 'domestic',
    category: 'S',
    rateBp: 1900,
    note: null,
    exemptionCode: null,
    showsBuyerVatId: true,
    showsSellerVatId: true,
  },
  // § 13b(1), (5) UStG and Art. 196 VAT Directive; § 14a(1), (5) UStG: both VAT IDs and this wording
  reverse_charge: {
    treatment: 'reverse_charge',
    category: 'AE',
    rateBp: 0,
    note: 'Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, Art. 196 MwStSystRL)',
    exemptionCode: 'VATEX-EU-AE',
    showsBuyerVatId: true,
    showsSellerVatId: true,
  },
  // § 3a(2) UStG: place of supply abroad, not taxable in Germany
  not_taxable: {
    treatment: 'not_taxable',
    category: 'O',
    rateBp: 0,
    note: 'Nicht im Inland steuerbare Leistung (§ 3a Abs. 2 UStG), Steuerschuldnerschaft des Leistungsempfängers im Ausland',
    exemptionCode: 'VATEX-EU-O',
    showsBuyerVatId: false,
    showsSellerVatId: false,
  },
}

export interface VatCustomer {
  /** ISO 3166 alpha-2 of the billing address */
  country: string
  vatId: string | null
}

/**
 * The treatment for a business customer: Germany → 19 %; another EU state with a VAT ID the checker
 * confirmed → reverse charge; another EU state without a confirmed VAT ID → 19 % (we cannot prove
 * the customer is an entrepreneur, so German VAT is the safe side); outside the EU → not taxable.
 */
export function vatTreatmentFor(customer: VatCustomer, vatIdValid: boolean): VatRule {
  const country = customer.country.toUpperCase()
  if (country === 'DE') return VAT_RULES.domestic
  if (EU_COUNTRIES.includes(country))
    return customer.vatId && vatIdValid ? VAT_RULES.reverse_charge : VAT_RULES.domestic
  return VAT_RULES.not_taxable
}
