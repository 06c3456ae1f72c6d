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

  /**
   * How many of its intervals ago the job last completed; a job that never did is counted from its
   * first scheduling here (the monitoring's rule and the TOM probe's).
   */
  intervalsSinceSuccess(now: DateTime): number {
    const since = this.lastSuccessAt ?? this.scheduledAt
    return now.diff(since).as('seconds') / Math.max(1, this.intervalSeconds)
  }
}
