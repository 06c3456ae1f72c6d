import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** The carrier dialog of an answered call, kept until the call ends (crash recovery). */
export default class ActiveCallLeg extends BaseModel {
  static table = 'active_call_legs'

  @column({ isPrimary: true })
  declare id: number

  @column()
  declare callRecordId: number

  @column()
  declare nodeId: string

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
