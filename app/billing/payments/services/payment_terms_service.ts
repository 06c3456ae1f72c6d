import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import { collectionDate } from '#billing/payments/collection_date'
import { giroCodeSvg } from '#billing/payments/girocode'
import { maskIban } from '#billing/payments/iban'
import type { Payable } from '#billing/payments/payable'
import PaymentDetailsService from '#billing/payments/services/payment_details_service'
import type { PaymentsConfig } from '#config/payments'
import paymentsConfig from '#config/payments'

/** What the invoice prints about payment: the SEPA pre-notification, or transfer details with a GiroCode. */
export type PaymentTerms =
  | {
      kind: 'sepa_debit'
      /** The pre-notification: this amount is collected on this date under this mandate. */
      collectionOn: DateTime
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
      /** SVG markup of the EPC069-12 QR code. */
      giroCodeSvg: string
    }

/** For the invoice PDF (the invoices engineer's seam): how this payable is paid. */
@inject()
export default class PaymentTermsService {
  protected config: PaymentsConfig = paymentsConfig

  constructor(protected details: PaymentDetailsService) {}

  async termsFor(
    payable: Payable,
    today: DateTime = DateTime.now().setZone(paymentsConfig.timeZone)
  ): Promise<PaymentTerms> {
    const method = await this.details.methodOf(payable.companyId)
    if (method?.method === 'sepa_debit' && method.mandateSealed && method.mandateReference) {
      return {
        kind: 'sepa_debit',
        collectionOn: collectionDate(payable, {
          preNotificationDays: this.config.preNotificationDays,
          today: payable.issuedOn > today ? payable.issuedOn : today,
        }),
        mandateReference: method.mandateReference,
        creditorId: this.config.creditor.id,
        maskedIban: maskIban(this.details.open(method.mandateSealed).iban),
      }
    }
    const { svg } = await giroCodeSvg(payable, this.config.creditor)
    return {
      kind: 'bank_transfer',
      creditorName: this.config.creditor.name,
      creditorIban: this.config.creditor.iban,
      creditorBic: this.config.creditor.bic,
      remittance: `Rechnung ${payable.invoiceNumber}`,
      giroCodeSvg: svg,
    }
  }
}
