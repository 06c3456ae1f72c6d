import type { PersonalDataDeclaration } from '#core/personal_data'

/**
 * Payments store a company's bank details for SEPA direct debits: the account holder (who may be a
 * person) and the IBAN, encrypted in one sealed value. Payables and debits name invoices and
 * amounts of a company, no person.
 */
const declaration: PersonalDataDeclaration = {
  module: 'billing.payments',
  tables: [
    {
      table: 'payment_methods',
      subject: 'company_contact',
      columns: {
        mandate_sealed: 'SEPA mandate: account holder, IBAN and BIC, encrypted with the app key',
      },
      purpose: 'collecting invoices by SEPA direct debit (the mandate)',
      legalBasis: 'contract',
      retention:
        'deleted when the company switches to bank transfer or gives a new mandate, and at the account end (AccountEndJob, privacy)',
    },
  ],
  notPersonal: {
    'payment_payables.invoice_number': 'number of an invoice to a company, not of a person',
  },
}

export default declaration
