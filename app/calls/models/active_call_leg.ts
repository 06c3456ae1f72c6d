import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** Who a kept dialog leads to: the carrier, or a user's phone or browser (through a SIP front). */
export type CallLegParty = 'carrier' | 'user'

/** One dialog of an answered call, kept until the call ends (crash recovery): a row per leg. */
export default class ActiveCallLeg extends BaseModel {
  static table = 'active_call_legs'

  @column({ isPrimary: true })
  declare id: number

  @column()
  declare callRecordId: number

  @column()
  declare nodeId: string

  @column()
  declare party: CallLegParty

  @column()
  declare callId: string

  @column()
  declare localTag: string

  @column()
  declare remoteTag: string

  @column()
  declare localUri: string

  @column()
  declare remoteUri: string

  @column()
  declare remoteTarget: string

  @column()
  declare routeSet: string

  @column()
  declare localSeq: number

  @column()
  declare protocol: string

  @column()
  declare host: string

  @column()
  declare port: number

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime
}
