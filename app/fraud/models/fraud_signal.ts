import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'
import type { SignalFacts, SignalLevel, SignalName } from '#fraud/detection/types'

const json = {
  prepare: (value: unknown) => JSON.stringify(value),
  consume: (value: string | object) => (typeof value === 'string' ? JSON.parse(value) : value),
}

/** A signal that fired: the evidence of an alert and of a review case (the figures that triggered it). */
export default class FraudSignal extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number | null

  @column()
  declare userId: number | null

  @column()
  declare signal: SignalName

  @column()
  declare level: SignalLevel

  @column()
  declare alertKey: string

  @column(json)
  declare facts: SignalFacts

  @column.dateTime()
  declare createdAt: DateTime
}
