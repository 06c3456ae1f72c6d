import { BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import PriceListVersion from '#billing/models/price_list_version'
import { formatIncrement } from '#billing/tariff_arithmetic'

/** The price of one destination prefix in a version; amounts in 1/10,000 cent. */
export default class PriceListRate extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare priceListVersionId: number

  @column()
  declare prefix: string

  @column()
  declare destination: string

  // PostgreSQL returns bigint as a string
  @column({ consume: Number })
  declare pricePerMinute: number

  @column({ consume: Number })
  declare connectionFee: number

  @column()
  declare firstInterval: number

  @column()
  declare nextInterval: number

  @belongsTo(() => PriceListVersion)
  declare version: BelongsTo<typeof PriceListVersion>

  get increment() {
    return (
      formatIncrement(this.firstInterval, this.nextInterval) ??
      `${this.firstInterval}/${this.nextInterval}`
    )
  }
}
