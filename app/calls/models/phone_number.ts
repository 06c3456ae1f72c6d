import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** A number we hold at a carrier, E.164 with "+". Released numbers keep no company or user. */
export default class PhoneNumber extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare number: string

  @column()
  declare carrierName: string

  @column()
  declare companyId: number | null

  @column()
  declare userId: number | null

  @column.dateTime()
  declare assignedAt: DateTime | null

  /** Released: not to be assigned again before this time. */
  @column.dateTime()
  declare quarantinedUntil: DateTime | null

  /** The holder ports the number out to another provider (staff workflow). */
  @column.dateTime()
  declare portOutRequestedAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime
}
