import { DateTime } from 'luxon'
import { BaseModel, afterDelete, afterSave, belongsTo, column } from '@adonisjs/lucid/orm'
import { lookupRowChanged } from '#core/caching/lookup_changes'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import Company from '#accounts/models/company'
import User from '#accounts/models/user'

/** Why a device was refused although its password was right. */
export type DeviceRefusal = 'plain_registration' | 'plain_call' | 'plain_media'

/**
 * A customer's own SIP phone with its own digest credentials. The HA1 columns hold ciphertext
 * (SipDeviceService seals and opens them); the password itself is never stored.
 */
export default class SipDevice extends BaseModel {
  static table = 'sip_devices'

  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number

  @column()
  declare userId: number

  @column()
  declare label: string

  @column()
  declare sipUsername: string

  @column()
  declare realm: string

  /** Encrypted H(username:realm:password) with MD5; never serialised. */
  @column({ columnName: 'ha1_md5', serializeAs: null })
  declare ha1Md5: string

  /** Encrypted H(username:realm:password) with SHA-256; never serialised. */
  @column({ columnName: 'ha1_sha256', serializeAs: null })
  declare ha1Sha256: string

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime()
  declare revokedAt: DateTime | null

  @column.dateTime()
  declare lastRegisteredAt: DateTime | null

  /** The transport of its last successful registration: udp, tcp or tls. */
  @column()
  declare lastTransport: string | null

  @column.dateTime()
  declare lastCallAt: DateTime | null

  /** Whether the media of its last call (placed from it) was encrypted (SRTP). */
  @column({ consume: (value) => (value === null ? null : Boolean(value)) })
  declare lastCallEncrypted: boolean | null

  /** Why its last refused registration or call was refused (a DeviceRefusal code). */
  @column()
  declare lastRefusal: DeviceRefusal | null

  @column.dateTime()
  declare lastRefusedAt: DateTime | null

  @belongsTo(() => Company)
  declare company: BelongsTo<typeof Company>

  @belongsTo(() => User)
  declare user: BelongsTo<typeof User>

  /** Refused since it last registered (a registration clears it): the devices page says why. */
  get refusedLately() {
    return this.lastRefusal != null && this.lastRefusedAt != null
  }

  /** Its last registration came over TLS: signalling (and so SDES keys) encrypted. */
  get registeredEncrypted() {
    return this.lastTransport === 'tls'
  }

  get isRevoked() {
    // `!= null`: a model built in this process (not read back) has undefined, not null, here.
    return this.revokedAt != null
  }

  /** Calls keep this row between calls (#core/caching/lookup_changes): every change drops it. */
  @afterSave()
  static lookupSaved(row: SipDevice) {
    lookupRowChanged(row)
  }

  @afterDelete()
  static lookupDeleted(row: SipDevice) {
    lookupRowChanged(row)
  }
}
