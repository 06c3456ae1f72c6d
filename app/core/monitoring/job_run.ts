import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** When a scheduled job last succeeded and failed, whichever node ran it. */
export default class JobRun extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare job: string

  @column()
  declare intervalSeconds: number

  @column.dateTime()
  declare scheduledAt: DateTime

  @column.dateTime()
  declare lastSuccessAt: DateTime | null

  @column.dateTime()
  declare lastFailureAt: DateTime | null

  @column()
  declare lastError: string | null
}
