import { createHash } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import invoicingConfig from '#config/invoicing'
import type Company from '#accounts/models/company'
import Invoice, { type InvoiceType } from '#billing/models/invoice'
import InvoiceLine from '#billing/models/invoice_line'
import InvoiceDocument from '#billing/models/invoice_document'
import InvoiceLineCollector from '#billing/services/invoice_line_collector'
import { priceLines, type InvoiceTotals } from '#billing/invoice_arithmetic'
import { VAT_RULES, vatTreatmentFor, type VatRule } from '#billing/vat_rules'
import type { VatIdChecker } from '#billing/vat_id_checker'
import {
  buildFacturXPdf,
  buildXRechnungXml,
  type CiiInvoice,
  type CiiPayment,
} from '#billing/einvoice'
import { renderInvoicePdf, type PdfPaymentTerms } from '#billing/invoice_pdf'
import { monthBounds, FEE_TIME_ZONE, type BillingMonth } from '#billing/monthly_fees'
import { InvoiceCorrectionError } from '#billing/invoice_errors'
import PayableLedger from '#billing/payments/services/payable_ledger'
import PaymentDetailsService from '#billing/payments/services/payment_details_service'
import PaymentTermsService, {
  type PaymentTerms,
} from '#billing/payments/services/payment_terms_service'
import User from '#accounts/models/user'
import type { Payable } from '#billing/payments/payable'

/** The payment terms as the PDF prints them and the e-invoice states them (BG-16). */
function termsForDocuments(terms: PaymentTerms): { pdf: PdfPaymentTerms; cii: CiiPayment } {
  if (terms.kind === 'sepa_debit')
    return {
      pdf: {
        kind: 'sepa_debit',
        collectionOn: terms.collectionOn.toISODate()!,
        mandateReference: terms.mandateReference,
        creditorId: terms.creditorId,
        maskedIban: terms.maskedIban,
      },
      cii: {
        kind: 'sepa_debit',
        mandateReference: terms.mandateReference,
        creditorId: terms.creditorId,
        debtorIban: terms.debtorIban,
      },
    }
  return {
    pdf: {
      kind: 'bank_transfer',
      creditorName: terms.creditorName,
      creditorIban: terms.creditorIban,
      creditorBic: terms.creditorBic,
      remittance: terms.remittance,
      giroCodePayload: terms.giroCodePayload,
    },
    cii: {
      kind: 'bank_transfer',
      iban: terms.creditorIban,
      bic: terms.creditorBic || null,
      accountName: terms.creditorName,
    },
  }
}

export type IssueOutcome =
  | { outcome: 'issued'; invoice: Invoice }
  | { outcome: 'skipped'; reason: 'already_issued' | 'nothing_to_bill' }

export const TITLES: Record<InvoiceType, string> = {
  invoice: 'Rechnung',
  cancellation: 'Stornorechnung',
  correction: 'Rechnungskorrektur',
}

export const monthKey = ({ year, month }: BillingMonth) =>
  `${year}-${String(month).padStart(2, '0')}`

function isUniqueViolation(error: unknown) {
  const code = (error as { code?: string }).code
  return (
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    /UNIQUE constraint failed/.test(String(error))
  )
}

/**
 * Issues invoices: takes the next number of the year's series inside the same transaction as the
 * invoice, its lines and its documents, so a failure returns the number and no gap appears; the
 * run_key makes the month's invoice of a company unique however many runs start (idempotent).
 */
export default class InvoiceIssuer {
  constructor(
    private vatIds: VatIdChecker,
    private collector = new InvoiceLineCollector()
  ) {}

  async issueMonthly(
    company: Company,
    month: BillingMonth,
    options: { runId?: number | null; now?: DateTime } = {}
  ): Promise<IssueOutcome> {
    const runKey = `${company.id}:${monthKey(month)}`
    if (await Invoice.findBy('runKey', runKey))
      return { outcome: 'skipped', reason: 'already_issued' }
    const { lines } = await this.collector.collect(company.id, month)
    if (!lines.length) return { outcome: 'skipped', reason: 'nothing_to_bill' }
    const rule = await this.vatRuleFor(company)
    const totals = priceLines(lines, rule)
    try {
      const invoice = await this.issue({
        type: 'invoice',
        company,
        month,
        runKey,
        rule,
        totals,
        runId: options.runId ?? null,
        now: options.now,
        preceding: null,
      })
      return { outcome: 'issued', invoice }
    } catch (error) {
      if (isUniqueViolation(error) && (await Invoice.findBy('runKey', runKey)))
        return { outcome: 'skipped', reason: 'already_issued' }
      throw error
    }
  }

  /**
   * Stornorechnung (never "Gutschrift", which § 14(2) UStG reserves for self-billing): a new
   * invoice with its own number, every line of the original negated, referring to it (BT-25).
   */
  async cancel(original: Invoice, now = DateTime.utc()): Promise<Invoice> {
    if (original.type === 'cancellation') throw new InvoiceCorrectionError('not_an_invoice')
    if (original.status === 'cancelled') throw new InvoiceCorrectionError('already_cancelled')
    await original.load('lines')
    await original.load('company')
    const rule = VAT_RULES[original.vatTreatment]
    const totals = priceLines(
      original.lines.map((line) => ({
        kind: line.kind,
        description: line.description,
        quantity: -line.quantity,
        netMicro: -line.netMicro,
      })),
      rule
    )
    return this.issue({
      type: 'cancellation',
      company: original.company,
      month: { year: original.periodYear, month: original.periodMonth },
      runKey: `${original.runKey}:storno`,
      rule,
      totals,
      runId: null,
      now,
      preceding: original,
    })
  }

  /** Rechnungskorrektur: cancels the original and issues the month again from today's data. */
  async correct(
    original: Invoice,
    now = DateTime.utc()
  ): Promise<{ cancellation: Invoice; correction: Invoice | null }> {
    const cancellation = await this.cancel(original, now)
    const company = original.company
    const month = { year: original.periodYear, month: original.periodMonth }
    const { lines } = await this.collector.collect(company.id, month)
    if (!lines.length) return { cancellation, correction: null }
    const rule = await this.vatRuleFor(company)
    const corrections = await Invoice.query()
      .where('company_id', company.id)
      .where('type', 'correction')
      .where('period_year', month.year)
      .where('period_month', month.month)
      .count('* as total')
    const correction = await this.issue({
      type: 'correction',
      company,
      month,
      runKey: `${company.id}:${monthKey(month)}:k${Number(corrections[0].$extras.total) + 1}`,
      rule,
      totals: priceLines(lines, rule),
      runId: null,
      now,
      preceding: original,
    })
    return { cancellation, correction }
  }

  async vatRuleFor(company: Company): Promise<VatRule> {
    const country = company.billingCountry || company.country
    const needsCheck = country !== 'DE' && Boolean(company.vatId)
    const check = needsCheck ? await this.vatIds.check(company.vatId!, country) : { valid: false }
    return vatTreatmentFor({ country, vatId: company.vatId }, check.valid)
  }

  private async issue(input: {
    type: InvoiceType
    company: Company
    month: BillingMonth
    runKey: string
    rule: VatRule
    totals: InvoiceTotals
    runId: number | null
    now?: DateTime
    preceding: Invoice | null
  }): Promise<Invoice> {
    const now = (input.now ?? DateTime.utc()).startOf('second')
    const issueDay = now.setZone(FEE_TIME_ZONE)
    const issueDate = issueDay.toISODate()!
    const dueDate = issueDay.plus({ days: invoicingConfig.paymentDays }).toISODate()!
    const { company, totals, rule } = input
    const { start, end } = monthBounds(input.month)
    // Read before the transaction (on SQLite a read outside it would wait for it): how the company
    // pays, and the owner's e-mail address as the last resort for the buyer's electronic address
    // (BT-49: a Leitweg-ID first, then the company's invoice address, as buyer_address.ts says)
    const resolveTerms =
      input.type === 'cancellation'
        ? null
        : await new PaymentTermsService(new PaymentDetailsService()).resolverFor(
            company.id,
            issueDay.startOf('day')
          )
    const owner = await User.query()
      .where('company_id', company.id)
      .whereHas('role', (role) => role.where('name', 'owner'))
      .orderBy('id')
      .first()

    const issued = await db.transaction(async (trx) => {
      const number = await this.nextNumber(trx, issueDay.year)
      const invoice = new Invoice().useTransaction(trx)
      invoice.merge({
        number,
        type: input.type,
        companyId: company.id,
        periodYear: input.month.year,
        periodMonth: input.month.month,
        runKey: input.runKey,
        precedingInvoiceId: input.preceding?.id ?? null,
        invoiceRunId: input.runId,
        issueDate,
        dueDate,
        currency: 'EUR',
        buyerName: company.displayName,
        buyerStreet: company.billingStreet,
        buyerPostalCode: company.billingPostalCode,
        buyerCity: company.billingCity,
        buyerCountry: company.billingCountry || company.country,
        buyerVatId: rule.showsBuyerVatId ? company.vatId : null,
        buyerReference: company.buyerReference,
        vatTreatment: rule.treatment,
        vatNote: rule.note,
        netCents: totals.netCents,
        vatCents: totals.vatCents,
        grossCents: totals.grossCents,
        status: input.type === 'cancellation' ? 'cancelled' : 'open',
        issuedAt: now,
      })
      await invoice.save()
      for (const line of totals.lines) {
        await InvoiceLine.create(
          {
            invoiceId: invoice.id,
            position: line.position,
            kind: line.kind,
            description: line.description,
            quantity: line.quantity,
            netMicro: line.netMicro,
            netCents: line.netCents,
            vatCategory: line.vatCategory,
            vatRateBp: line.vatRateBp,
          },
          { client: trx }
        )
      }

      const payable: Payable = {
        invoiceNumber: number,
        companyId: company.id,
        grossCents: totals.grossCents,
        currency: 'EUR',
        issuedOn: DateTime.fromISO(issueDate, { zone: FEE_TIME_ZONE }),
        dueOn: DateTime.fromISO(dueDate, { zone: FEE_TIME_ZONE }),
      }
      const terms =
        resolveTerms && totals.grossCents > 0
          ? termsForDocuments(await resolveTerms(payable))
          : null
      const cii: CiiInvoice = {
        number,
        typeCode: invoice.typeCode as CiiInvoice['typeCode'],
        issueDate,
        dueDate,
        periodStart: start.toISODate()!,
        periodEnd: end.minus({ days: 1 }).toISODate()!,
        currency: 'EUR',
        buyerReference: company.buyerReference || `K-${company.id}`,
        buyerId: `K-${company.id}`,
        buyerName: invoice.buyerName,
        buyerStreet: invoice.buyerStreet,
        buyerPostalCode: invoice.buyerPostalCode,
        buyerCity: invoice.buyerCity,
        buyerCountry: invoice.buyerCountry,
        buyerVatId: invoice.buyerVatId,
        buyerEmail: company.invoiceEmail || owner?.email || null,
        vatTreatment: rule.treatment,
        lines: totals.lines,
        breakdown: totals.breakdown,
        netCents: totals.netCents,
        vatCents: totals.vatCents,
        grossCents: totals.grossCents,
        notes: [
          ...(rule.note ? [rule.note] : []),
          ...(input.preceding
            ? [`${TITLES[input.type]} zur Rechnung ${input.preceding.number}`]
            : []),
        ],
        precedingInvoice: input.preceding
          ? { number: input.preceding.number, issueDate: input.preceding.issueDate }
          : null,
        payment: terms?.cii ?? null,
      }
      // Both e-invoices are made by @e-invoice-eu/core (einvoice.ts): the XRechnung CII XML, and
      // the Factur-X PDF/A-3 from our rendered PDF
      const xml = await buildXRechnungXml(cii, invoicingConfig.seller)
      const rendered = await renderInvoicePdf(
        {
          ...cii,
          title: TITLES[input.type],
          issuedAt: now.toJSDate(),
          paymentTerms: terms?.pdf ?? null,
          quantities: Object.fromEntries(
            totals.lines.map((line) => [line.position, line.quantity])
          ),
        },
        invoicingConfig.seller
      )
      const pdf = await buildFacturXPdf(cii, invoicingConfig.seller, rendered)
      for (const [kind, bytes] of [
        ['xml', Buffer.from(xml, 'utf8')],
        ['pdf', Buffer.from(pdf)],
      ] as const) {
        await InvoiceDocument.create(
          {
            invoiceId: invoice.id,
            kind,
            content: bytes,
            sha256: createHash('sha256').update(bytes).digest('hex'),
          },
          { client: trx }
        )
      }
      if (input.preceding && input.type === 'cancellation') {
        input.preceding.useTransaction(trx)
        await input.preceding.markStatus('cancelled', now)
      }
      return invoice
    })
    // Payments collect what is owed (app/billing/payments/payable.ts); registering again is harmless
    if (issued.type !== 'cancellation' && issued.grossCents > 0) {
      await new PayableLedger().register({
        invoiceNumber: issued.number,
        companyId: issued.companyId,
        grossCents: issued.grossCents,
        currency: 'EUR',
        issuedOn: DateTime.fromISO(issued.issueDate, { zone: FEE_TIME_ZONE }),
        dueOn: DateTime.fromISO(issued.dueDate, { zone: FEE_TIME_ZONE }),
      })
    }
    return issued
  }

  /** The next number of the year's series; the row lock of the increment serializes issuers. */
  private async nextNumber(trx: TransactionClientContract, year: number) {
    const series = `${invoicingConfig.numberPrefix}-${year}`
    await trx
      .table('invoice_number_sequences')
      .insert({ series, last_value: 0 })
      .onConflict('series')
      .ignore()
    await trx.from('invoice_number_sequences').where('series', series).increment('last_value', 1)
    const row = await trx.from('invoice_number_sequences').where('series', series).firstOrFail()
    return `${series}-${String(row.last_value).padStart(6, '0')}`
  }
}
