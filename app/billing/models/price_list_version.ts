import { DateTime } from 'luxon'
import { BaseModel, belongsTo, column, hasMany } from '@adonisjs/lucid/orm'
import type { BelongsTo, HasMany } from '@adonisjs/lucid/types/relations'
import PriceList from '#billing/models/price_list'
import PriceListRate from '#billing/models/price_list_rate'

/** The prices of a list from a date on; a call is rated by the version valid when it started. */
export default class PriceListVersion extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare priceListId: number

  @column.dateTime()
  declare validFrom: DateTime

  /** Monthly fees in 1/10,000 cent; null in an override: the default list's fee. */
  @column({ consume: (value) => (value === null || value === undefined ? null : Number(value)) })
  declare seatFeePerMonth: number | null

  @column({ consume: (value) => (value === null || value === undefined ? null : Number(value)) })
  declare numberFeePerMonth: number | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @belongsTo(() => PriceList)
  declare priceList: BelongsTo<typeof PriceList>

  @hasMany(() => PriceListRate)
  declare rates: HasMany<typeof PriceListRate>
}
