import type { PersonalDataDeclaration } from '#core/personal_data'

/**
 * Billing stores tariffs (no personal data) and writes the cost of each call onto its CDR, where
 * it is traffic data of the caller like the CDR itself and goes with it (calls' retention job).
 */
const declaration: PersonalDataDeclaration = {
  module: 'billing',
  tables: [
    {
      table: 'call_records',
      subject: 'caller',
      columns: {
        cost_micro: 'price of the call in 1/10,000 cent',
        cost_cents: 'price of the call in whole cents (cost_micro rounded half up)',
        rating: 'how the call was rated: free, priced or unpriced',
        rated_at: 'when the call was rated',
      },
      purpose: 'billing of calls (TDDDG §§ 9-10)',
      legalBasis: 'contract',
      retention:
        'with the call detail record: 6 months after the call started (CallDataRetentionJob)',
    },
    {
      table: 'companies',
      // A shared address (rechnungen@…) is asked for; a sole trader may give their own
      subject: 'company_contact',
      columns: {
        invoice_email:
          "the company's invoice e-mail address: buyer's electronic address of its e-invoices (BT-49) without a Leitweg-ID, and where payment reminders go",
      },
      purpose: 'invoicing (§ 14 UStG, XRechnung BR-DE) and payment reminders',
      legalBasis: 'contract',
      retention:
        'business relationship; blanked at the account end (AccountEndJob, privacy); in issued e-invoices 8 years with them',
    },
    {
      table: 'invoices',
      // The buyer is a business; a sole trader's name and address are personal data
      subject: 'company_contact',
      columns: {
        buyer_name: 'name of the invoiced business as on the day of issue',
        buyer_street: 'billing address: street',
        buyer_postal_code: 'billing address: postal code',
        buyer_city: 'billing address: city',
        buyer_vat_id: 'VAT identification number of the buyer (reverse charge, § 14a UStG)',
        buyer_reference: 'buyer reference (BT-10), e.g. a Leitweg-ID',
      },
      purpose: 'invoicing (§ 14 UStG) and bookkeeping (HGB, AO)',
      legalBasis: 'legal_obligation',
      retention:
        '8 years from the end of the calendar year of issue (HGB § 257(4), AO § 147(3), UStG § 14b(1)); survives the account',
    },
    {
      table: 'invoice_documents',
      subject: 'company_contact',
      columns: {
        content: 'the issued XML and PDF bytes, holding the buyer data above (no call numbers)',
      },
      purpose: 'invoicing (§ 14 UStG), GoBD: the issued document kept unchanged',
      legalBasis: 'legal_obligation',
      retention: '8 years from the end of the calendar year of issue, with its invoice',
    },
  ],
  notPersonal: {
    'counselling_lines.number':
      "a counselling service's number from the Federal Network Agency's list (TDDDG § 11(2)), kept to hide calls to it; no customer's or caller's data",
    'counselling_lines.name':
      "name of the counselling service on that list (organisations and authorities; where the agency lists a person, it is the agency's published entry, used only to leave calls off itemised lists)",
    'invoices.number': 'the invoice number, not a phone number',
    'invoice_lines.description': 'destination category or fee, never a called number',
    'invoice_number_sequences.series': 'name of a number series',
    'companies.buyer_reference':
      "the business customer's buyer reference (BT-10), accounts declares the company",
    'price_lists.name': 'name of a price list ("Standard", a company override), not of a person',
    'carrier_purchase_prices.carrier_name': 'the carrier (a company, not a person)',
    'price_list_versions.number_fee_per_month':
      'monthly price of a phone number in a price list, names no number',
  },
}

export default declaration
