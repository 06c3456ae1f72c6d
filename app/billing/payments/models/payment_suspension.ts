import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** A company's outbound calls stopped for an overdue payable (110/112 never); lifted when paid. */
export default class PaymentSuspension extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number

  @column()
  declare payableId: number

  @column.dateTime()
  declare suspendedAt: DateTime

  @column.dateTime()
  declare liftedAt: DateTime | null
}
