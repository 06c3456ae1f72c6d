import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** Since when a rule's subject fails or passes, for the rule's hold times (shared by all nodes). */
export default class AlertRuleState extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare rule: string

  @column()
  declare subject: string

  @column.dateTime()
  declare failingSince: DateTime | null

  @column.dateTime()
  declare passingSince: DateTime | null

  @column.dateTime()
  declare evaluatedAt: DateTime
}
