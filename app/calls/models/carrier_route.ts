import { DateTime } from 'luxon'
import { BaseModel, afterDelete, afterSave, column } from '@adonisjs/lucid/orm'
import { routingRowChanged } from '#calls/routing/routing_changes'

/** One carrier of a route: region + destination prefix (E.164 digits, "" = default). */
export default class CarrierRoute extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare region: string

  @column()
  declare prefix: string

  @column()
  declare carrierName: string

  @column()
  declare priority: number

  @column()
  declare weight: number

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  /** Routing caches its tables (RoutingService): every change here reloads them. */
  @afterSave()
  static saved(row: CarrierRoute) {
    routingRowChanged(row)
  }

  @afterDelete()
  static deleted(row: CarrierRoute) {
    routingRowChanged(row)
  }
}
