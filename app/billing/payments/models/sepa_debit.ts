import { DateTime } from 'luxon'
import { BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import PaymentPayable from '#billing/payments/models/payment_payable'
import type { MandateScheme } from '#billing/payments/models/payment_method'

export type SequenceType = 'FRST' | 'RCUR'

/** One direct debit of a payable as put into a pain.008 file; returned when the bank sends it back. */
export default class SepaDebit extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare payableId: number

  @column()
  declare messageId: string

  @column()
  declare mandateReference: string

  @column()
  declare scheme: MandateScheme

  @column()
  declare sequenceType: SequenceType

  @column({ consume: (value) => Number(value) })
  declare amountCents: number

  @column.date()
  declare collectionOn: DateTime

  @column()
  declare endToEndId: string

  @column()
  declare status: 'submitted' | 'returned'

  @column()
  declare returnReason: string | null

  @column.dateTime()
  declare returnedAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @belongsTo(() => PaymentPayable, { foreignKey: 'payableId' })
  declare payable: BelongsTo<typeof PaymentPayable>
}
