import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The company's invoice e-mail address (e.g. rechnungen@…): the buyer's electronic address of its
 * e-invoices (BT-49) when it has no Leitweg-ID, so that no employee's personal address lands in
 * the 8-year invoice archive; payment reminders go there too.
 */
export default class extends BaseSchema {
  protected tableName = 'companies'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.string('invoice_email', 254).nullable()
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('invoice_email')
    })
  }
}
