import { DateTime } from 'luxon'
import { BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import Company from '#accounts/models/company'
import type { OutboundSuspension } from '#fraud/models/fraud_company_policy'
import FraudSignal from '#fraud/models/fraud_signal'

export const REVIEW_STATUSES = ['open', 'cleared', 'confirmed'] as const
export type ReviewStatus = (typeof REVIEW_STATUSES)[number]

/** A company suspended automatically at a critical signal, waiting for an analyst's decision. */
export default class FraudReviewCase extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number

  @column()
  declare status: ReviewStatus

  @column()
  declare signalId: number | null

  @column()
  declare previousSuspension: OutboundSuspension

  @column()
  declare decidedById: number | null

  @column()
  declare decisionReason: string | null

  @column.dateTime()
  declare decidedAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Company)
  declare company: BelongsTo<typeof Company>

  @belongsTo(() => FraudSignal, { foreignKey: 'signalId' })
  declare signal: BelongsTo<typeof FraudSignal>
}
