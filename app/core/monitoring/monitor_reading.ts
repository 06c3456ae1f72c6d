import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'
import { factsColumn } from '#core/alerts/facts_column'
import type { AlertFacts } from '#core/alerts/types'

/** The latest reading of a check about one subject ('' for the whole node). */
export default class MonitorReading extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare checkName: string

  @column()
  declare subject: string

  // PostgreSQL returns double precision as a number; SQLite too
  @column({ consume: (value: unknown) => (value === null ? null : Number(value)) })
  declare value: number | null

  @column(factsColumn)
  declare facts: AlertFacts

  @column.dateTime()
  declare observedAt: DateTime

  @column.dateTime()
  declare readAt: DateTime

  @column()
  declare intervalSeconds: number

  @column()
  declare error: string | null
}
