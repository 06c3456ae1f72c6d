import { randomBytes } from 'node:crypto'
import { type DateTime } from 'luxon'
import encryption from '@adonisjs/core/services/encryption'
import db from '@adonisjs/lucid/services/db'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import { maskIban } from '#billing/payments/iban'
import PaymentMethod, { type MandateScheme } from '#billing/payments/models/payment_method'

/** What the sealed value holds: the bank details of the mandate. */
export interface BankDetails {
  accountHolder: string
  iban: string
  bic: string | null
}

export interface MandateInput extends BankDetails {
  signedOn: DateTime
  scheme: MandateScheme
}

/** The payment details as the customer area shows them: the IBAN masked, nothing else secret. */
export interface PaymentDetailsView {
  method: PaymentMethod['method'] | null
  accountHolder: string | null
  maskedIban: string | null
  bic: string | null
  mandateReference: string | null
  signedOn: DateTime | null
  scheme: MandateScheme | null
}

/** Encryption purpose: a sealed mandate cannot be opened as another kind of secret. */
const PURPOSE = 'sepa_mandate'
const REFERENCE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'

/**
 * A company's payment details. A new mandate (any change of the bank details) gets a new mandate
 * reference: the old one ends with the new signature. Every change is audited, with the IBAN masked.
 */
export default class PaymentDetailsService {
  seal(details: BankDetails) {
    return encryption.encrypt(details, undefined, PURPOSE)
  }

  open(sealed: string) {
    const details = encryption.decrypt<BankDetails>(sealed, PURPOSE)
    if (!details)
      throw new Error('A sealed SEPA mandate could not be opened (was APP_KEY changed?)')
    return details
  }

  async methodOf(companyId: number) {
    return PaymentMethod.findBy('company_id', companyId)
  }

  async view(companyId: number): Promise<PaymentDetailsView> {
    const method = await this.methodOf(companyId)
    const details = method?.mandateSealed ? this.open(method.mandateSealed) : null
    return {
      method: method?.method ?? null,
      accountHolder: details?.accountHolder ?? null,
      maskedIban: details ? maskIban(details.iban) : null,
      bic: details?.bic ?? null,
      mandateReference: method?.mandateReference ?? null,
      signedOn: method?.mandateSignedOn ?? null,
      scheme: method?.mandateScheme ?? null,
    }
  }

  /** Stores a signed SEPA direct debit mandate (CORE or B2B) in place of the company's method. */
  async saveMandate(company: Company, input: MandateInput, actor: User, ip: string) {
    const reference = await this.newReference(company.id)
    const method = await db.transaction(async (trx) => {
      const row =
        (await PaymentMethod.query({ client: trx }).where('company_id', company.id).first()) ??
        new PaymentMethod()
      row.useTransaction(trx)
      row.merge({
        companyId: company.id,
        method: 'sepa_debit',
        mandateSealed: this.seal({
          accountHolder: input.accountHolder,
          iban: input.iban,
          bic: input.bic,
        }),
        mandateReference: reference,
        mandateSignedOn: input.signedOn,
        mandateScheme: input.scheme,
      })
      await row.save()
      await AuditLog.record(
        {
          action: 'billing.payment.mandate_saved',
          actor,
          companyId: company.id,
          target: { type: 'company', id: company.id },
          details: {
            reference,
            scheme: input.scheme,
            iban: maskIban(input.iban),
            signedOn: input.signedOn.toISODate(),
          },
          ip,
        },
        { client: trx }
      )
      return row
    })
    return method
  }

  /** Bank transfer instead: the mandate's details are deleted, its reference ends. */
  /**
   * The company's invoice e-mail address. The audit says whether it was set, changed or removed
   * and its domain, not the address (it may name a person).
   */
  async saveInvoiceEmail(company: Company, email: string | null, actor: User, ip: string) {
    const before = company.invoiceEmail
    if ((before ?? null) === email) return
    company.invoiceEmail = email
    await company.save()
    await AuditLog.record({
      action: 'billing.invoice_email.changed',
      actor,
      companyId: company.id,
      target: { type: 'company', id: company.id },
      details: {
        change: email === null ? 'removed' : before ? 'changed' : 'set',
        ...(email ? { domain: email.split('@').pop() } : {}),
      },
      ip,
    })
  }

  async chooseBankTransfer(company: Company, actor: User, ip: string) {
    await db.transaction(async (trx) => {
      const row =
        (await PaymentMethod.query({ client: trx }).where('company_id', company.id).first()) ??
        new PaymentMethod()
      const endedReference = row.mandateReference ?? null
      row.useTransaction(trx)
      row.merge({
        companyId: company.id,
        method: 'bank_transfer',
        mandateSealed: null,
        mandateReference: null,
        mandateSignedOn: null,
        mandateScheme: null,
      })
      await row.save()
      await AuditLog.record(
        {
          action: 'billing.payment.transfer_chosen',
          actor,
          companyId: company.id,
          target: { type: 'company', id: company.id },
          details: endedReference ? { endedMandate: endedReference } : {},
          ip,
        },
        { client: trx }
      )
    })
  }

  /**
   * "FC-<company>-<8 random characters>": at most 35 characters of the SEPA character set, unique
   * for our creditor ID (the column is unique, a collision is retried).
   */
  async newReference(companyId: number) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const random = [...randomBytes(8)]
        .map((byte) => REFERENCE_ALPHABET[byte % REFERENCE_ALPHABET.length])
        .join('')
      const reference = `FC-${companyId}-${random}`
      if (!(await PaymentMethod.findBy('mandate_reference', reference))) return reference
    }
    throw new Error('could not find a free mandate reference')
  }
}
