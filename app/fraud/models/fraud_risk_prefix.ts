import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** A number range libphonenumber-js does not classify: E.164 digits without "+", and its risk class. */
export default class FraudRiskPrefix extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare prefix: string

  @column()
  declare riskClass: string

  @column()
  declare label: string

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime
}
