import type { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** The grounds of Art. 18(1) GDPR (a) to (d). */
export const RESTRICTION_GROUNDS = [
  'accuracy_contested',
  'unlawful_no_erasure',
  'legal_claims',
  'objection_pending',
] as const
export type RestrictionGround = (typeof RESTRICTION_GROUNDS)[number]

/** One restriction of processing for one user; active while `liftedAt` is null. */
export default class ProcessingRestriction extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare userId: number

  @column()
  declare companyId: number | null

  @column()
  declare ground: RestrictionGround

  @column()
  declare note: string | null

  @column()
  declare restrictedById: number | null

  @column.dateTime()
  declare restrictedAt: DateTime

  @column()
  declare liftedById: number | null

  @column.dateTime()
  declare liftedAt: DateTime | null
}
