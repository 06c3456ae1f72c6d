import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'
import type { ForwardCondition } from '#calls/models/call_forwarding'

/**
 * One forwarding rule of a company number: a colleague (`targetUserId`) or an external number
 * (`targetNumber`, E.164 with "+"), exactly one of them. `ringSeconds` only for no_answer.
 */
export default class PhoneNumberForwarding extends BaseModel {
  static table = 'phone_number_forwardings'

  @column({ isPrimary: true })
  declare id: number

  @column()
  declare phoneNumberId: number

  @column()
  declare companyId: number

  @column()
  declare condition: ForwardCondition

  @column()
  declare targetUserId: number | null

  @column()
  declare targetNumber: string | null

  @column()
  declare ringSeconds: number | null

  /** The admin who last set it: an external forwarding of a shared number is their outbound call. */
  @column()
  declare setByUserId: number | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime
}
