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
      retention: 'with the call detail record: 6 months after the call started (CallDataRetentionJob)',
    },
  ],
  notPersonal: {
    'price_lists.name': 'name of a price list ("Standard", a company override), not of a person',
    'carrier_purchase_prices.carrier_name': 'the carrier (a company, not a person)',
    'price_list_versions.number_fee_per_month': 'monthly price of a phone number in a price list, names no number',
  },
}

export default declaration
