import { DateTime } from 'luxon'
import { BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import Alert from '#core/alerts/alert'
import { factsColumn } from '#core/alerts/facts_column'
import type { AlertEventKind, AlertFacts, AlertSeverity } from '#core/alerts/types'

export type WebhookStatus = 'none' | 'pending' | 'delivered' | 'failed'

/** One step in an alert's life, and how its delivery went. */
export default class AlertEvent extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare alertId: number

  @column()
  declare event: AlertEventKind

  @column()
  declare severity: AlertSeverity

  @column(factsColumn)
  declare facts: AlertFacts

  @column.dateTime()
  declare at: DateTime

  @column()
  declare webhookStatus: WebhookStatus

  @column()
  declare webhookAttempts: number

  @column.dateTime()
  declare webhookNextAttemptAt: DateTime | null

  @column()
  declare webhookError: string | null

  @column.dateTime()
  declare mailedAt: DateTime | null

  @belongsTo(() => Alert)
  declare alert: BelongsTo<typeof Alert>
}
