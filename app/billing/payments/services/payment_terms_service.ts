import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import { collectionDate } from '#billing/payments/collection_date'
import { giroCodeSvg } from '#billing/payments/girocode'
import type PaymentMethod from '#billing/payments/models/payment_method'
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
      /** The full IBAN, for the e-invoice's BT-91 only (BR-DE-20); printed masked. */
      debtorIban: string
    }
  | {
      kind: 'bank_transfer'
      creditorName: string
      creditorIban: string
      creditorBic: string
      remittance: string
      /** The EPC069-12 payload (what the QR code carries) and its SVG markup. */
      giroCodePayload: string
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
    return (await this.resolverFor(payable.companyId, today))(payable)
  }

  /**
   * Reads the company's payment method now and returns what turns a payable into its terms without
   * touching the database: the invoice issuer reads first and renders inside its transaction (on
   * SQLite a read outside the open write transaction would wait for it).
   */
  async resolverFor(
    companyId: number,
    today: DateTime = DateTime.now().setZone(paymentsConfig.timeZone)
  ): Promise<(payable: Payable) => Promise<PaymentTerms>> {
    const method = await this.details.methodOf(companyId)
    return (payable) => this.terms(method, payable, today)
  }

  private async terms(
    method: PaymentMethod | null,
    payable: Payable,
    today: DateTime
  ): Promise<PaymentTerms> {
    if (method?.method === 'sepa_debit' && method.mandateSealed && method.mandateReference) {
      return {
        kind: 'sepa_debit',
        collectionOn: collectionDate(payable, {
          preNotificationDays: this.config.preNotificationDays,
          today: payable.issuedOn > today ? payable.issuedOn : today,
        }),
        mandateReference: method.mandateReference,
        creditorId: this.config.creditor.id,
        ...(({ iban }) => ({ maskedIban: maskIban(iban), debtorIban: iban }))(
          this.details.open(method.mandateSealed)
        ),
      }
    }
    const { payload, svg } = await giroCodeSvg(payable, this.config.creditor)
    return {
      kind: 'bank_transfer',
      creditorName: this.config.creditor.name,
      creditorIban: this.config.creditor.iban,
      creditorBic: this.config.creditor.bic,
      remittance: `Rechnung ${payable.invoiceNumber}`,
      giroCodePayload: payload,
      giroCodeSvg: svg,
    }
  }
}
