import { DateTime } from 'luxon'
import { BaseModel, beforeDelete, beforeUpdate, column } from '@adonisjs/lucid/orm'
import { ImmutableInvoiceError } from '#billing/invoice_errors'

/** The issued bytes of an invoice (GoBD): stored once with their SHA-256, served as stored. */
export default class InvoiceDocument extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare invoiceId: number

  @column()
  declare kind: 'xml' | 'pdf'

  @column({
    consume: (value: unknown) =>
      Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array),
  })
  declare content: Buffer

  @column({ columnName: 'sha256' })
  declare sha256: string

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @beforeUpdate()
  static refuseChange() {
    throw new ImmutableInvoiceError('issued documents cannot change')
  }

  @beforeDelete()
  static refuseDelete() {
    throw new ImmutableInvoiceError('issued documents cannot be deleted')
  }
}
