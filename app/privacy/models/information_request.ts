import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

export const INFORMATION_TOPICS = [
  'sub_processors',
  'toms',
  'scc_copy',
  'transfers',
  'other',
] as const
export type InformationTopic = (typeof INFORMATION_TOPICS)[number]

/** A request for further information sent from the public transparency pages. */
export default class InformationRequest extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare requesterName: string

  @column()
  declare requesterEmail: string

  @column()
  declare organisation: string | null

  @column()
  declare topic: InformationTopic

  @column()
  declare message: string

  @column()
  declare locale: string

  @column()
  declare status: 'open' | 'answered'

  @column()
  declare handledById: number | null

  @column.dateTime()
  declare handledAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime
}
