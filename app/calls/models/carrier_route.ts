import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

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
}
