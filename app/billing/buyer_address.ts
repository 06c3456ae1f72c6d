import { LEITWEG_ID } from '#billing/einvoice'

export type BuyerAddressKind = 'leitweg_id' | 'invoice_email' | 'owner_email' | 'none'

/**
 * The buyer's electronic address of an e-invoice (BT-49, required by XRechnung): the Leitweg-ID
 * when the buyer reference is one (scheme 0204), else the company's invoice e-mail address, and
 * only when neither is given the owner's own address (which then sits in the 8-year archive).
 */
export function buyerElectronicAddress(
  company: { buyerReference: string | null; invoiceEmail: string | null },
  ownerEmail: string | null
): { kind: BuyerAddressKind; value: string | null } {
  if (company.buyerReference && LEITWEG_ID.test(company.buyerReference))
    return { kind: 'leitweg_id', value: company.buyerReference }
  if (company.invoiceEmail) return { kind: 'invoice_email', value: company.invoiceEmail }
  if (ownerEmail) return { kind: 'owner_email', value: ownerEmail }
  return { kind: 'none', value: null }
}
