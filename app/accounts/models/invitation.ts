import { DateTime } from 'luxon'
import { BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import Company from '#accounts/models/company'
import Role from '#accounts/models/role'

export default class Invitation extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number

  @column()
  declare roleId: number

  @column()
  declare invitedById: number | null

  @column()
  declare email: string

  /** SHA-256 of the token in the link; the token itself is only in the email. */
  @column({ serializeAs: null })
  declare tokenHash: string

  @column.dateTime()
  declare expiresAt: DateTime

  @column.dateTime()
  declare acceptedAt: DateTime | null

  @column.dateTime()
  declare revokedAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @belongsTo(() => Company)
  declare company: BelongsTo<typeof Company>

  @belongsTo(() => Role)
  declare role: BelongsTo<typeof Role>

  get isUsable() {
    return !this.acceptedAt && !this.revokedAt && this.expiresAt > DateTime.now()
  }
}
