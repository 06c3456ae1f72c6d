import type { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** A hold on a company's call records of a period while a billing dispute is open. */
export default class CallRecordHold extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number

  @column.dateTime()
  declare fromAt: DateTime

  @column.dateTime()
  declare untilAt: DateTime

  @column()
  declare reason: string

  @column()
  declare placedById: number | null

  @column.dateTime()
  declare placedAt: DateTime

  @column()
  declare releasedById: number | null

  @column.dateTime()
  declare releasedAt: DateTime | null
}
