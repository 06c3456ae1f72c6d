import { DateTime } from 'luxon'
import { BaseModel, column, hasMany } from '@adonisjs/lucid/orm'
import type { HasMany } from '@adonisjs/lucid/types/relations'
import AlertEvent from '#core/alerts/alert_event'
import { factsColumn } from '#core/alerts/facts_column'
import type { AlertFacts, AlertSeverity } from '#core/alerts/types'

/** An alert: open while its condition holds, one per key; cleared ones are history. */
export default class Alert extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare key: string

  @column()
  declare kind: string

  @column()
  declare severity: AlertSeverity

  @column()
  declare status: 'open' | 'cleared'

  @column()
  declare companyId: number | null

  // SQLite returns booleans as 0/1.
  @column({ consume: (value: unknown) => Boolean(value) })
  declare notifyCompany: boolean

  @column(factsColumn)
  declare facts: AlertFacts

  @column()
  declare raiseCount: number

  @column.dateTime()
  declare raisedAt: DateTime

  @column.dateTime()
  declare lastRaisedAt: DateTime

  @column.dateTime()
  declare clearedAt: DateTime | null

  @hasMany(() => AlertEvent)
  declare events: HasMany<typeof AlertEvent>
}
