import { DateTime } from 'luxon'
import { BaseModel, afterDelete, afterSave, column } from '@adonisjs/lucid/orm'
import { routingRowChanged } from '#calls/routing/routing_changes'

/** A company objected to a carrier (Art. 28(2) GDPR): it is never routed over that carrier. */
export default class CarrierObjection extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number

  @column()
  declare carrierName: string

  @column()
  declare objectedById: number | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  /** Routing caches its tables (RoutingService): every change here reloads them. */
  @afterSave()
  static saved(row: CarrierObjection) {
    routingRowChanged(row)
  }

  @afterDelete()
  static deleted(row: CarrierObjection) {
    routingRowChanged(row)
  }
}
