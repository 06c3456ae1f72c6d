import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** A company's settings for calls inside it: whether colleagues see each other's presence. */
export default class InternalSetting extends BaseModel {
  static table = 'internal_settings'
  static selfAssignPrimaryKey = true

  @column({ isPrimary: true })
  declare companyId: number

  @column({ consume: Boolean })
  declare presenceEnabled: boolean

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime
}
