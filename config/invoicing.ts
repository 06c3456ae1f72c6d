/**
 * The seller on every invoice (EN 16931 BG-4) and the payment terms. Values are the provider's
 * own master data, not secrets; a deployment changes them here.
 */
export interface InvoicingConfig {
  seller: {
    name: string
    street: string
    postalCode: string
    city: string
    country: string
    /** BT-31, USt-IdNr. (§ 14(4) Nr. 2 UStG) */
    vatId: string
    /** BT-30, commercial register entry */
    registerEntry: string
    email: string
    phone: string
    iban: string
  }
  /** Days from the issue date to the due date. */
  paymentDays: number
  /** Invoice numbers: prefix + year of issue + six digits, e.g. RE-2026-000001. */
  numberPrefix: string
  /** The month's run starts from this hour (Europe/Berlin) on the first day of the next month. */
  runHour: number
}

const invoicingConfig: InvoicingConfig = {
  seller: {
    name: 'FluffyCall GmbH',
    street: 'Friedrichstraße 100',
    postalCode: '10117',
    city: 'Berlin',
    country: 'DE',
    vatId: 'DE123456789',
    registerEntry: 'HRB 123456 B, Amtsgericht Charlottenburg',
    email: 'rechnung@fluffycall.de',
    phone: '+49 30 12345678',
    iban: 'DE02120300000000202051',
  },
  paymentDays: 14,
  numberPrefix: 'RE',
  runHour: 3,
}

export default invoicingConfig
