import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** A number a Wangiri signal flagged: calling it back is refused until `flaggedUntil`. */
export default class FraudFlaggedNumber extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number

  @column()
  declare number: string

  @column()
  declare reason: string

  @column.dateTime()
  declare flaggedUntil: DateTime

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime
}
