import type { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** One acceptance of a DPA version by a company's owner; never updated. */
export default class DpaAcceptance extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number

  @column()
  declare version: string

  @column()
  declare locale: string

  @column()
  declare acceptedByUserId: number | null

  @column()
  declare acceptedByName: string

  @column()
  declare acceptedByEmail: string

  @column()
  declare ip: string | null

  @column.dateTime()
  declare acceptedAt: DateTime

  /** JSON of DpaSnapshot: the text and the annexes as they stood at acceptance. */
  @column()
  declare snapshot: string

  @column()
  declare snapshotHash: string
}
