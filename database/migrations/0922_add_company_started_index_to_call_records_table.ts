import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * A company's calls by start time (issue 17): the fraud analysis after every call reads the rows
 * of one company that started or ended lately within its window, and counts that window (direction too, so the count needs no table rows). With
 * only the single-column indexes the database walked all the company's calls or all calls of the
 * window of every company.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.alterTable('call_records', (table) => {
      table.index(['company_id', 'started_at', 'direction'], 'call_records_company_started_index')
    })
  }

  async down() {
    this.schema.alterTable('call_records', (table) => {
      table.dropIndex(
        ['company_id', 'started_at', 'direction'],
        'call_records_company_started_index'
      )
    })
  }
}
