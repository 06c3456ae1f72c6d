import { BaseModel, beforeDelete, beforeUpdate, column } from '@adonisjs/lucid/orm'
import { ImmutableInvoiceError } from '#billing/invoice_errors'
import type { PricedLine } from '#billing/invoice_arithmetic'

const bigint = { consume: (value: unknown) => Number(value) }

/** One line of an issued invoice (BG-25): exact sum in 1/10,000 cent and its whole cents. */
export default class InvoiceLine extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare invoiceId: number

  @column()
  declare position: number

  @column()
  declare kind: PricedLine['kind']

  @column()
  declare description: string

  @column()
  declare quantity: number

  @column(bigint)
  declare netMicro: number

  @column(bigint)
  declare netCents: number

  @column()
  declare vatCategory: PricedLine['vatCategory']

  @column()
  declare vatRateBp: number

  @beforeUpdate()
  static refuseChange() {
    throw new ImmutableInvoiceError('invoice lines cannot change')
  }

  @beforeDelete()
  static refuseDelete() {
    throw new ImmutableInvoiceError('invoice lines cannot be deleted')
  }
}
