import { DateTime } from 'luxon'
import {
  BaseModel,
  beforeDelete,
  beforeUpdate,
  belongsTo,
  column,
  hasMany,
} from '@adonisjs/lucid/orm'
import type { BelongsTo, HasMany } from '@adonisjs/lucid/types/relations'
import Company from '#accounts/models/company'
import InvoiceLine from '#billing/models/invoice_line'
import InvoiceDocument from '#billing/models/invoice_document'
import { ImmutableInvoiceError } from '#billing/invoice_errors'
import type { VatTreatment } from '#billing/vat_rules'

/** invoice: the month's invoice; cancellation: Stornorechnung; correction: Rechnungskorrektur. */
export type InvoiceType = 'invoice' | 'cancellation' | 'correction'
/** The payment side (SEPA, reminders) may add statuses; only status changes after issue. */
export type InvoiceStatus = 'open' | 'paid' | 'cancelled' | (string & {})

/** Columns that may change after issue; everything else is fixed (also by PostgreSQL trigger 0611). */
export const MUTABLE_INVOICE_COLUMNS = new Set(['status', 'statusChangedAt'])

const bigint = { consume: (value: unknown) => Number(value) }

/**
 * An issued invoice. The seam for payment: number, companyId, grossCents, dueDate and status;
 * `markStatus` is the one way to change it.
 */
export default class Invoice extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare number: string

  @column()
  declare type: InvoiceType

  @column()
  declare companyId: number

  @column()
  declare periodYear: number

  @column()
  declare periodMonth: number

  @column()
  declare runKey: string

  @column()
  declare precedingInvoiceId: number | null

  @column()
  declare invoiceRunId: number | null

  /** YYYY-MM-DD (Europe/Berlin) */
  @column()
  declare issueDate: string

  @column()
  declare dueDate: string

  @column()
  declare currency: string

  @column()
  declare buyerName: string

  @column()
  declare buyerStreet: string

  @column()
  declare buyerPostalCode: string

  @column()
  declare buyerCity: string

  @column()
  declare buyerCountry: string

  @column()
  declare buyerVatId: string | null

  @column()
  declare buyerReference: string | null

  @column()
  declare vatTreatment: VatTreatment

  @column()
  declare vatNote: string | null

  @column(bigint)
  declare netCents: number

  @column(bigint)
  declare vatCents: number

  @column(bigint)
  declare grossCents: number

  @column()
  declare status: InvoiceStatus

  @column.dateTime()
  declare statusChangedAt: DateTime | null

  @column.dateTime()
  declare issuedAt: DateTime

  @belongsTo(() => Company)
  declare company: BelongsTo<typeof Company>

  @hasMany(() => InvoiceLine)
  declare lines: HasMany<typeof InvoiceLine>

  @hasMany(() => InvoiceDocument)
  declare documents: HasMany<typeof InvoiceDocument>

  @belongsTo(() => Invoice, { foreignKey: 'precedingInvoiceId' })
  declare precedingInvoice: BelongsTo<typeof Invoice>

  /** UNTDID 1001: 380 commercial invoice; 384 corrected invoice (Stornorechnung and Rechnungskorrektur). */
  get typeCode() {
    return this.type === 'invoice' ? '380' : '384'
  }

  /** The issue date as a Berlin calendar day, for pages. */
  get issuedOn() {
    return DateTime.fromISO(this.issueDate, { zone: 'Europe/Berlin' })
  }

  async markStatus(status: InvoiceStatus, at: DateTime = DateTime.utc()) {
    this.status = status
    this.statusChangedAt = at
    await this.save()
  }

  @beforeUpdate()
  static refuseChange(invoice: Invoice) {
    const changed = Object.keys(invoice.$dirty).filter((key) => !MUTABLE_INVOICE_COLUMNS.has(key))
    if (changed.length)
      throw new ImmutableInvoiceError(`invoice ${invoice.number}: ${changed.join(', ')}`)
  }

  @beforeDelete()
  static refuseDelete(invoice: Invoice) {
    throw new ImmutableInvoiceError(`invoice ${invoice.number} cannot be deleted`)
  }
}
