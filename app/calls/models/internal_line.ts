import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** A user's line inside the company: the extension and the settings only calls read. */
export default class InternalLine extends BaseModel {
  static table = 'internal_lines'
  static selfAssignPrimaryKey = true

  @column({ isPrimary: true })
  declare userId: number

  @column()
  declare companyId: number

  @column()
  declare extension: string | null

  @column({ consume: Boolean })
  declare doNotDisturb: boolean

  @column({ consume: Boolean })
  declare callWaiting: boolean

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime
}
