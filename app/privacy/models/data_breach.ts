import type { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

export const BREACH_ROLES = ['controller', 'processor', 'both'] as const
export type BreachRole = (typeof BREACH_ROLES)[number]

/** One personal-data breach as recorded under Art. 33(5) GDPR. */
export default class DataBreach extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare title: string

  @column()
  declare nature: string

  @column()
  declare dataConcerned: string

  @column()
  declare consequences: string

  @column()
  declare measures: string

  @column()
  declare role: BreachRole

  @column.dateTime()
  declare becameAwareAt: DateTime

  @column.dateTime()
  declare authorityDueAt: DateTime

  @column.dateTime()
  declare authorityNotifiedAt: DateTime | null

  @column()
  declare authorityReference: string | null

  @column()
  declare delayReason: string | null

  @column()
  declare status: 'open' | 'closed'

  @column()
  declare recordedById: number | null

  @column.dateTime()
  declare createdAt: DateTime

  @column.dateTime()
  declare closedAt: DateTime | null

  /** Whether the authority must hear of it (FluffyCall is controller of some of the data). */
  get reportsToAuthority() {
    return this.role !== 'processor'
  }
}
