import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** What a carrier charges us per minute for a destination prefix (1/10,000 cent); staff only. */
export default class CarrierPurchasePrice extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare carrierName: string

  @column()
  declare prefix: string

  @column({ consume: Number })
  declare pricePerMinute: number

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime
}
