import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

export interface InvoiceRunResult {
  companyId: number
  company: string
  outcome: 'issued' | 'skipped' | 'failed'
  /** The invoice number when issued; why otherwise (already_issued, nothing_to_bill, an error). */
  detail: string
}

/** One monthly run over all companies (scheduled, or started by staff) and what it did. */
export default class InvoiceRun extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare periodYear: number

  @column()
  declare periodMonth: number

  @column()
  declare startedById: number | null

  @column()
  declare status: 'running' | 'finished' | 'failed'

  @column()
  declare issuedCount: number

  @column()
  declare skippedCount: number

  @column()
  declare failedCount: number

  @column({
    prepare: (value: InvoiceRunResult[] | null) => (value ? JSON.stringify(value) : null),
    consume: (value: string | null) => (value ? JSON.parse(value) : []),
  })
  declare results: InvoiceRunResult[]

  @column.dateTime()
  declare startedAt: DateTime

  @column.dateTime()
  declare finishedAt: DateTime | null
}
