import type { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** The rights a request can invoke; `access` covers Art. 15 and the portable copy of Art. 20. */
export const REQUEST_KINDS = ['access', 'rectification', 'erasure', 'objection'] as const
export type RequestKind = (typeof REQUEST_KINDS)[number]
export const REQUEST_CHANNELS = ['self_service', 'mail', 'company_admin'] as const
export type RequestChannel = (typeof REQUEST_CHANNELS)[number]
export type RequestStatus = 'open' | 'completed' | 'rejected'

/** The GDPR article each kind of request invokes, as shown on the pages. */
export const REQUEST_ARTICLES: Record<RequestKind, string> = {
  access: 'Art. 15, 20',
  rectification: 'Art. 16',
  erasure: 'Art. 17',
  objection: 'Art. 21',
}

/** One data-subject request with its Art. 12(3) deadline, handled by staff or a company admin. */
export default class DataSubjectRequest extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare companyId: number | null

  @column()
  declare userId: number | null

  @column()
  declare subjectName: string

  @column()
  declare subjectEmail: string

  @column()
  declare kind: RequestKind

  @column()
  declare channel: RequestChannel

  @column()
  declare details: string | null

  @column()
  declare status: RequestStatus

  @column.dateTime()
  declare receivedAt: DateTime

  @column.dateTime()
  declare dueAt: DateTime

  @column.dateTime()
  declare extendedAt: DateTime | null

  @column()
  declare extensionReason: string | null

  @column()
  declare outcome: string | null

  @column()
  declare handledById: number | null

  @column.dateTime()
  declare closedAt: DateTime | null
}
