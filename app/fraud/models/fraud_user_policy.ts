import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'
import type { OutboundSuspension } from '#fraud/models/fraud_company_policy'

const micro = {
  consume: (value: string | number | null) => (value === null ? null : Number(value)),
}

/** A user's own outbound suspension (staff) and spend caps (the company's admins), on top of the company's. */
export default class FraudUserPolicy extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare userId: number

  @column()
  declare outboundSuspension: OutboundSuspension

  /** 1/10,000 cent; null: no cap of the user's own. */
  @column(micro)
  declare dailyCapMicro: number | null

  @column(micro)
  declare monthlyCapMicro: number | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime
}
