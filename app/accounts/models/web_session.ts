import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

export type WebSessionEndReason =
  | 'logout'
  | 'revoked'
  | 'revoked_others'
  | 'password_changed'
  | 'two_factor_changed'
  | 'user_disabled'
  | 'company_terminated'
  | 'expired'

/** One logged-in browser session (see migration 0410); the session data lives in the session store. */
export default class WebSession extends BaseModel {
  static table = 'web_sessions'

  @column({ isPrimary: true })
  declare id: number

  @column()
  declare userId: number

  @column({ serializeAs: null })
  declare sessionDigest: string

  @column({ serializeAs: null })
  declare sealedSessionId: string

  @column()
  declare userAgent: string | null

  @column()
  declare ip: string | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime()
  declare lastUsedAt: DateTime

  @column.dateTime()
  declare expiresAt: DateTime

  @column.dateTime()
  declare endedAt: DateTime | null

  @column()
  declare endReason: WebSessionEndReason | null
}
