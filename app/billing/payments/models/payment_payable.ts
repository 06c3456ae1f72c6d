import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'
import type { Payable } from '#billing/payments/payable'

export const PAYABLE_STATUSES = ['open', 'paid', 'returned'] as const
export type PayableStatus = (typeof PAYABLE_STATUSES)[number]

/** A payable as payments track it: registered when its invoice is issued, then paid or not. */
export default class PaymentPayable extends BaseModel implements Payable {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare invoiceNumber: string

  @column()
  declare companyId: number

  @column({ consume: (value) => Number(value) })
  declare grossCents: number

  @column()
  declare currency: 'EUR'

  @column.date()
  declare issuedOn: DateTime

  @column.date()
  declare dueOn: DateTime

  @column()
  declare status: PayableStatus

  @column.date()
  declare paidOn: DateTime | null

  @column()
  declare remindersSent: number

  @column.dateTime()
  declare lastRemindedAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  get isUnpaid() {
    return this.status !== 'paid'
  }
}
