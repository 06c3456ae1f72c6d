import type { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** The zip archive an access request produced, downloadable by the user until it expires. */
export default class DataExportArchive extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare requestId: number

  @column()
  declare userId: number

  @column({ serializeAs: null })
  declare archive: Buffer

  @column({ columnName: 'sha256' })
  declare sha256: string

  @column()
  declare sizeBytes: number

  @column.dateTime()
  declare createdAt: DateTime

  @column.dateTime()
  declare expiresAt: DateTime
}
