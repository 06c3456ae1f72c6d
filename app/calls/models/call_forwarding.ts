import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** When a call to a user is forwarded: always, when busy, after ringing unanswered, when no device is reachable. */
export const FORWARD_CONDITIONS = ['always', 'busy', 'no_answer', 'unreachable'] as const
export type ForwardCondition = (typeof FORWARD_CONDITIONS)[number]

/** Seconds a call rings before a no-answer forwarding takes it, when the rule names none. */
export const DEFAULT_FORWARD_RING_SECONDS = 20

/**
 * One forwarding rule of a user: a colleague (`targetUserId`) or an external number
 * (`targetNumber`, E.164 with "+"), exactly one of them. `ringSeconds` only for no_answer.
 */
export default class CallForwarding extends BaseModel {
  static table = 'call_forwardings'

  @column({ isPrimary: true })
  declare id: number

  @column()
  declare userId: number

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

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime
}
