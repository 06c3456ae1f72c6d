import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Account end: when a terminated company's personal data was deleted (the company row stays,
 * anonymised, while its invoices are kept), and until when the kept invoices hold it.
 */
export default class extends BaseSchema {
  protected tableName = 'companies'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.timestamp('account_data_deleted_at', { useTz: true }).nullable()
      table.timestamp('records_kept_until', { useTz: true }).nullable()
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('account_data_deleted_at')
      table.dropColumn('records_kept_until')
    })
  }
}
