import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

export type SubProcessorChangeKind = 'announced' | 'activated' | 'withdrawn'

/** One public entry in the sub-processor history (page and Atom feed). */
export default class SubProcessorChange extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare carrierName: string

  @column()
  declare change: SubProcessorChangeKind

  @column.dateTime()
  declare effectiveAt: DateTime

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime
}
