import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'
import type { OutboundSuspension } from '#fraud/models/fraud_company_policy'

/** A user's own outbound suspension, on top of the company's. */
export default class FraudUserPolicy extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare userId: number

  @column()
  declare outboundSuspension: OutboundSuspension

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime
}
