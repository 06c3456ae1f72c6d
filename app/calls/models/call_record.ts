import { DateTime } from 'luxon'
import { BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import Company from '#accounts/models/company'
import User from '#accounts/models/user'

/** `internal`: both ends are users of one company (extension or own number); no carrier, no cost. */
export type CallDirection = 'outbound' | 'inbound' | 'echo_test' | 'internal'

export type DisconnectCause =
  | 'answered_normal'
  | 'busy'
  | 'no_answer'
  | 'rejected'
  | 'cancelled'
  | 'unreachable'
  | 'refused'
  | 'failed'
  | 'missed'
  | 'media_timeout'
  /** The media engine lost the call's media (a media worker process died). */
  | 'media_failed'
  | 'phone_disconnected'
  | 'ended_by_staff'
  | 'company_terminated'
  | 'system_shutdown'
  | 'crash_recovery'
  | 'no_capacity'
  | 'lost'
  | 'node_lost'
  | 'max_duration'
  | 'spend_cap'

export type HungUpBy = 'caller' | 'callee' | 'system'

/** A call detail record (CDR): one per call attempt, created at start and completed at the end. */
/** SQLite hands booleans back as 0/1; null stays null (not known). */
const nullableBoolean = (value: unknown) =>
  value === null || value === undefined ? null : Boolean(value)

/** PostgreSQL may hand floats back as strings; null stays null. */
const nullableNumber = (value: unknown) =>
  value === null || value === undefined ? null : Number(value)

export default class CallRecord extends BaseModel {
  static table = 'call_records'

  @column({ isPrimary: true })
  declare id: number

  @column()
  declare uuid: string

  @column()
  declare companyId: number | null

  @column()
  declare userId: number | null

  /** The called colleague of an internal call; null otherwise. */
  @column()
  declare calleeUserId: number | null

  @column()
  declare direction: CallDirection

  @column({ consume: Boolean })
  declare emergency: boolean

  @column()
  declare callerNumber: string | null

  @column()
  declare calleeNumber: string | null

  @column({ consume: Boolean })
  declare callerWithheld: boolean

  @column()
  declare carrierName: string | null

  @column()
  declare region: string | null

  @column.dateTime()
  declare startedAt: DateTime

  @column.dateTime()
  declare answeredAt: DateTime | null

  @column.dateTime()
  declare endedAt: DateTime | null

  @column()
  declare durationSeconds: number | null

  @column()
  declare sipStatus: number | null

  @column()
  declare disconnectCause: DisconnectCause | null

  @column()
  declare hungUpBy: HungUpBy | null

  @column()
  declare costCents: number | null

  /** The exact price in 1/10,000 cent, written by billing when the call ends (null until rated or when no price list covers it). */
  @column({ consume: (value) => (value === null || value === undefined ? null : Number(value)) })
  declare costMicro: number | null

  @column()
  declare nodeId: string | null

  /** The call was forwarded: the colleague's extension or the external number it went to. */
  @column()
  declare forwardedTo: string | null

  /** Why it was forwarded (always, busy, no_answer, unreachable). */
  @column()
  declare forwardReason: string | null

  /** On the outbound call an external forwarding placed: the uuid of the call it continues. */
  @column()
  declare forwardedFromUuid: string | null

  /** Per side: TLS/WSS signalling and SRTP/DTLS-SRTP media; null when not known. */
  @column({ consume: nullableBoolean })
  declare callerSignallingEncrypted: boolean | null

  @column({ consume: nullableBoolean })
  declare callerMediaEncrypted: boolean | null

  @column({ consume: nullableBoolean })
  declare calleeSignallingEncrypted: boolean | null

  @column({ consume: nullableBoolean })
  declare calleeMediaEncrypted: boolean | null

  /**
   * Both browsers confirmed their keys for one pairing (issue 22); stays true when a transfer
   * later took the call to a SIP phone: it was end-to-end encrypted for a part.
   */
  @column({ consume: Boolean })
  declare endToEndEncrypted: boolean

  /** Audio from the caller’s side as we received it: loss %, jitter and round-trip ms, MOS estimate. */
  @column({ consume: nullableNumber })
  declare callerLossPercent: number | null

  @column({ consume: nullableNumber })
  declare callerJitterMs: number | null

  @column({ consume: nullableNumber })
  declare callerRttMs: number | null

  @column({ consume: nullableNumber })
  declare callerMos: number | null

  /** Audio from the callee’s side as we received it: loss %, jitter and round-trip ms, MOS estimate. */
  @column({ consume: nullableNumber })
  declare calleeLossPercent: number | null

  @column({ consume: nullableNumber })
  declare calleeJitterMs: number | null

  @column({ consume: nullableNumber })
  declare calleeRttMs: number | null

  @column({ consume: nullableNumber })
  declare calleeMos: number | null

  /** The worse side's MOS (null when neither side's audio was measured): staff sort by it. */
  @column({ consume: nullableNumber })
  declare qualityMos: number | null

  @belongsTo(() => Company)
  declare company: BelongsTo<typeof Company>

  @belongsTo(() => User)
  declare user: BelongsTo<typeof User>

  get isComplete() {
    return this.endedAt != null
  }
}
