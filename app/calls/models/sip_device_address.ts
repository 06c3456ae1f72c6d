import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** An address a SIP phone registered from successfully (SipDeviceService keeps them). */
export default class SipDeviceAddress extends BaseModel {
  static table = 'sip_device_addresses'

  @column({ isPrimary: true })
  declare id: number

  @column()
  declare sipDeviceId: number

  @column()
  declare address: string

  @column.dateTime()
  declare firstRegisteredAt: DateTime

  @column.dateTime()
  declare lastRegisteredAt: DateTime
}
