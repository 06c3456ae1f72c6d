import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

export const PAYMENT_METHODS = ['sepa_debit', 'bank_transfer'] as const
export type PaymentMethodKind = (typeof PAYMENT_METHODS)[number]
export const MANDATE_SCHEMES = ['CORE', 'B2B'] as const
export type MandateScheme = (typeof MANDATE_SCHEMES)[number]

/**
 * How a company pays: a SEPA direct debit mandate or bank transfer. The bank details live only in
 * `mandateSealed` (encrypted with the app key, see MandateVault); never a card number.
 */
export default class PaymentMethod extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number

  @column()
  declare method: PaymentMethodKind

  @column({ serializeAs: null })
  declare mandateSealed: string | null

  @column()
  declare mandateReference: string | null

  @column.date()
  declare mandateSignedOn: DateTime | null

  @column()
  declare mandateScheme: MandateScheme | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime
}
