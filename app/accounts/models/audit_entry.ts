import { DateTime } from 'luxon'
import { BaseModel, beforeDelete, beforeUpdate, column } from '@adonisjs/lucid/orm'

export default class AuditEntry extends BaseModel {
  static table = 'audit_entries'

  @column({ isPrimary: true })
  declare id: number

  @column()
  declare actorId: number | null

  @column()
  declare actorEmail: string | null

  @column()
  declare companyId: number | null

  @column()
  declare action: string

  @column()
  declare targetType: string | null

  @column()
  declare targetId: string | null

  @column({
    prepare: (value: Record<string, unknown> | null) => (value ? JSON.stringify(value) : null),
    consume: (value: string | null) => (value ? JSON.parse(value) : null),
  })
  declare details: Record<string, unknown> | null

  @column()
  declare ip: string | null

  // SQLite returns booleans as 0/1.
  @column({ consume: (value: unknown) => Boolean(value) })
  declare ipShortened: boolean

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  /** Append-only: the model refuses updates and deletes; the retention job works on the table. */
  @beforeUpdate()
  static refuseUpdate() {
    throw new Error('audit entries are append-only')
  }

  @beforeDelete()
  static refuseDelete() {
    throw new Error('audit entries are append-only')
  }
}
