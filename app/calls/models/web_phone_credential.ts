import { DateTime } from 'luxon'
import { BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import Company from '#accounts/models/company'
import User from '#accounts/models/user'

/**
 * The web phone's SIP login: issued to one browser session, valid for a few hours. The HA1
 * columns hold ciphertext (WebPhoneCredentialService seals and opens them); the password itself
 * is handed to the browser once and never stored.
 */
export default class WebPhoneCredential extends BaseModel {
  static table = 'web_phone_credentials'

  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number

  @column()
  declare userId: number

  @column()
  declare sipUsername: string

  @column()
  declare realm: string

  @column({ columnName: 'ha1_md5', serializeAs: null })
  declare ha1Md5: string

  @column({ columnName: 'ha1_sha256', serializeAs: null })
  declare ha1Sha256: string

  @column({ serializeAs: null })
  declare sessionDigest: string | null

  /** The address the login was issued to (over the web session): passes a lock on that address. */
  @column()
  declare issuedAddress: string | null

  /** The registered web session (accounts' web_sessions) it was issued to. */
  @column()
  declare webSessionId: number | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime()
  declare expiresAt: DateTime

  @column.dateTime()
  declare revokedAt: DateTime | null

  @column.dateTime()
  declare lastRegisteredAt: DateTime | null

  @belongsTo(() => Company)
  declare company: BelongsTo<typeof Company>

  @belongsTo(() => User)
  declare user: BelongsTo<typeof User>

  /** Not revoked and not expired; whether the user and company may still use it is the service's question. */
  isLive(now: DateTime = DateTime.utc()) {
    // `== null`: a model built in this process (not read back) has undefined, not null, here.
    return this.revokedAt == null && this.expiresAt > now
  }
}
