import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'
import type { FraudLimits, SpendLimits } from '#config/fraud'

export const OUTBOUND_SUSPENSIONS = ['none', 'international_premium', 'all'] as const
export type OutboundSuspension = (typeof OUTBOUND_SUSPENSIONS)[number]

/** Overrides of config/fraud.ts; what is missing takes the default. */
export interface FraudLimitOverrides {
  company?: Partial<FraudLimits>
  user?: Partial<FraudLimits>
  device?: Partial<FraudLimits>
  callsToOneNumberPerHour?: number
  maxDurationSeconds?: number | null
  spend?: Partial<SpendLimits>
}

const json = {
  prepare: (value: unknown) => JSON.stringify(value),
  consume: (value: string | object) => (typeof value === 'string' ? JSON.parse(value) : value),
}

/** A company's destination permissions, risk-class enables, outbound suspension and limits. */
export default class FraudCompanyPolicy extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number

  @column(json)
  declare allowedCountries: string[]

  @column(json)
  declare enabledRiskClasses: string[]

  @column()
  declare outboundSuspension: OutboundSuspension

  @column(json)
  declare limits: FraudLimitOverrides

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime
}
