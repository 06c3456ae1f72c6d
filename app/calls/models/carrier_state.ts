import { DateTime } from 'luxon'
import { BaseModel, afterDelete, afterSave, column } from '@adonisjs/lucid/orm'
import { routingRowChanged } from '#calls/routing/routing_changes'

export const CARRIER_LIFECYCLES = ['announced', 'active', 'withdrawn'] as const
export type CarrierLifecycle = (typeof CARRIER_LIFECYCLES)[number]

/** The operators' state of one configured carrier; the credentials column holds ciphertext only. */
export default class CarrierState extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare carrierName: string

  // SQLite returns booleans as 0/1.
  @column({ consume: (value: unknown) => Boolean(value) })
  declare enabled: boolean

  @column()
  declare lifecycle: CarrierLifecycle | null

  @column.dateTime()
  declare announcedAt: DateTime | null

  @column.dateTime()
  declare effectiveAt: DateTime | null

  @column.dateTime()
  declare activatedAt: DateTime | null

  @column.dateTime()
  declare withdrawnAt: DateTime | null

  /** AES-256-GCM with the app key; never serialised. */
  @column({ serializeAs: null })
  declare credentialsSealed: string | null

  @column.dateTime()
  declare credentialsUpdatedAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  /** Routing caches its tables (RoutingService): every change here reloads them. */
  @afterSave()
  static saved(row: CarrierState) {
    routingRowChanged(row)
  }

  @afterDelete()
  static deleted(row: CarrierState) {
    routingRowChanged(row)
  }
}
