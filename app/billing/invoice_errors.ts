/** An issued invoice, its lines or its documents were to be changed or deleted (GoBD, § 14 UStG). */
export class ImmutableInvoiceError extends Error {
  constructor(what: string) {
    super(`an issued invoice is immutable: ${what}`)
    this.name = 'ImmutableInvoiceError'
  }
}

/** An invoice cannot be cancelled or corrected (already cancelled, or itself a cancellation). */
export class InvoiceCorrectionError extends Error {
  constructor(public readonly reason: 'already_cancelled' | 'not_an_invoice') {
    super(`invoice cannot be corrected: ${reason}`)
    this.name = 'InvoiceCorrectionError'
  }
}
