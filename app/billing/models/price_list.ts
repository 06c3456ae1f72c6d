import { DateTime } from 'luxon'
import { BaseModel, belongsTo, column, hasMany } from '@adonisjs/lucid/orm'
import type { BelongsTo, HasMany } from '@adonisjs/lucid/types/relations'
import Company from '#accounts/models/company'
import PriceListVersion from '#billing/models/price_list_version'

/** The default price list (companyId null) or a company's override, priced in dated versions. */
export default class PriceList extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare name: string

  @column()
  declare companyId: number | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Company)
  declare company: BelongsTo<typeof Company>

  @hasMany(() => PriceListVersion)
  declare versions: HasMany<typeof PriceListVersion>

  get isDefault() {
    return this.companyId === null
  }
}
