import type { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** An owner's termination of the company's account, effective at `endsAt` unless withdrawn. */
export default class AccountTermination extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number

  @column()
  declare requestedById: number | null

  @column.dateTime()
  declare requestedAt: DateTime

  @column.dateTime()
  declare endsAt: DateTime

  @column()
  declare withdrawnById: number | null

  @column.dateTime()
  declare withdrawnAt: DateTime | null

  @column.dateTime()
  declare carriedOutAt: DateTime | null
}
