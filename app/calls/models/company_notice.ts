import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** An in-app notice shown to a customer company's users. */
export default class CompanyNotice extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number

  @column()
  declare kind: 'carrier_announced'

  @column()
  declare carrierName: string | null

  @column.dateTime()
  declare effectiveAt: DateTime | null

  @column.dateTime()
  declare readAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime
}
