import { DateTime } from 'luxon'
import hash from '@adonisjs/core/services/hash'
import { compose } from '@adonisjs/core/helpers'
import { afterDelete, afterSave, BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import { lookupRowChanged } from '#core/caching/lookup_changes'
import emitter from '@adonisjs/core/services/emitter'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { withAuthFinder } from '@adonisjs/auth/mixins/lucid'
import db from '@adonisjs/lucid/services/db'
import Company from '#accounts/models/company'
import Role from '#accounts/models/role'
import type { PermissionName } from '#accounts/permissions'

const AuthFinder = withAuthFinder(() => hash.use('scrypt'), {
  uids: ['email'],
  passwordColumnName: 'password',
})

export default class User extends compose(BaseModel, AuthFinder) {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number | null

  @column()
  declare roleId: number

  // SQLite returns booleans as 0/1.
  @column({ consume: (value: unknown) => Boolean(value) })
  declare isStaff: boolean

  @column()
  declare fullName: string

  @column()
  declare email: string

  @column({ serializeAs: null })
  declare password: string

  @column()
  declare locale: string

  @column()
  declare emergencyStreet: string | null

  @column()
  declare emergencyPostalCode: string | null

  @column()
  declare emergencyCity: string | null

  @column()
  declare emergencyCountry: string | null

  /** Encrypted with the app key; never serialised. */
  @column({ serializeAs: null })
  declare totpSecret: string | null

  @column.dateTime()
  declare totpEnabledAt: DateTime | null

  /** Last accepted TOTP time step: a code is accepted only once. (PostgreSQL returns bigint as a string.) */
  @column({
    serializeAs: null,
    consume: (value) => (value === null || value === undefined ? null : Number(value)),
  })
  declare totpLastStep: number | null

  /** JSON array of scrypt hashes of unused recovery codes. */
  @column({ serializeAs: null })
  declare recoveryCodes: string | null

  @column.dateTime()
  declare passwordChangedAt: DateTime | null

  @column.dateTime()
  declare disabledAt: DateTime | null

  /** Signed up but has not yet confirmed the address through the mailed link: cannot log in. */
  @column({ consume: (value: unknown) => Boolean(value) })
  declare awaitingConfirmation: boolean

  /** Withhold the own number on outgoing calls unless a call asks otherwise (never towards 110/112). */
  @column({ consume: (value: unknown) => Boolean(value) })
  declare clirDefault: boolean

  /** Inbound calls without a caller number are refused instead of ringing this user. */
  @column({ consume: (value: unknown) => Boolean(value) })
  declare rejectAnonymous: boolean

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Company)
  declare company: BelongsTo<typeof Company>

  @belongsTo(() => Role)
  declare role: BelongsTo<typeof Role>

  #permissions?: Set<string>

  /** Other modules end what the user still holds (web phone logins, SIP registrations). */
  @afterDelete()
  static async announceRemoval(user: User) {
    await emitter.emit('user:removed', { userId: user.id, companyId: user.companyId })
  }

  /** The permissions of this user's role, read once per model instance (one request). */
  async permissions(): Promise<Set<string>> {
    if (!this.#permissions) {
      const rows = await db
        .from('role_permissions')
        .join('permissions', 'permissions.id', 'role_permissions.permission_id')
        .where('role_permissions.role_id', this.roleId)
        .select('permissions.name')
      this.#permissions = new Set(rows.map((row) => row.name as string))
    }
    return this.#permissions
  }

  async hasPermission(permission: PermissionName) {
    if (this.disabledAt) return false
    return (await this.permissions()).has(permission)
  }

  get twoFactorEnabled() {
    // `!= null`: a model built in this process (not read back) has undefined, not null, here.
    return this.totpEnabledAt != null && this.totpSecret != null
  }

  /** Where emergency services are sent: the user's own address, else the company's billing address. */
  async emergencyLocation() {
    if (this.emergencyStreet && this.emergencyCity && this.emergencyPostalCode) {
      return {
        street: this.emergencyStreet,
        postalCode: this.emergencyPostalCode,
        city: this.emergencyCity,
        country: this.emergencyCountry ?? 'DE',
      }
    }
    if (!this.companyId) return null
    const company = await Company.findOrFail(this.companyId)
    return {
      street: company.billingStreet,
      postalCode: company.billingPostalCode,
      city: company.billingCity,
      country: company.billingCountry,
    }
  }

  /** Calls keep this row between calls (#core/caching/lookup_changes): every change drops it. */
  @afterSave()
  static lookupSaved(row: User) {
    lookupRowChanged(row)
  }

  @afterDelete()
  static lookupDeleted(row: User) {
    lookupRowChanged(row)
  }
}
