import { BaseSchema } from '@adonisjs/lucid/schema'
import { DateTime } from 'luxon'
import { sqlTime } from '#core/sql_time'

/**
 * The counselling lines that never appear on an itemised list (TDDDG § 11(2)) as operational data:
 * the Federal Network Agency gives providers its list, staff import it as CSV (billing.manage).
 * Seeded with the excerpt of well-known nationwide lines the code held until now, so an itemised
 * list never goes without until the agency's list is imported.
 */
const EXCERPT: [string, string][] = [
  ['498001110111', 'TelefonSeelsorge'],
  ['498001110222', 'TelefonSeelsorge'],
  ['49116123', 'TelefonSeelsorge'],
  ['49116111', 'Nummer gegen Kummer (Kinder- und Jugendtelefon)'],
  ['498001110333', 'Nummer gegen Kummer'],
  ['498001110550', 'Nummer gegen Kummer (Elterntelefon)'],
  ['49116016', 'Hilfetelefon Gewalt gegen Frauen'],
  ['498000116016', 'Hilfetelefon Gewalt gegen Frauen'],
]

export default class extends BaseSchema {
  protected tableName = 'counselling_lines'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      // E.164 digits without "+"
      table.string('number', 16).notNullable().unique()
      table.string('name', 200).notNullable().defaultTo('')
      table.string('source', 200).notNullable()
      table.timestamp('imported_at', { useTz: true }).notNullable()
    })
    this.defer(async (db) => {
      const now = sqlTime(DateTime.utc())
      await db.table(this.tableName).multiInsert(
        EXCERPT.map(([number, name]) => ({
          number,
          name,
          source: 'FluffyCall excerpt (nationwide lines, before the first import)',
          imported_at: now,
        }))
      )
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
