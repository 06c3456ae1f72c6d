import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Full destination numbers on the itemised list (TDDDG § 11(1)) need the subscriber's declaration in
 * text form that the co-users are informed (and a works council involved where there is one): who
 * declared, when, and the words they confirmed. Cleared when the company leaves `full`; the audit
 * log keeps every declaration.
 */
export default class extends BaseSchema {
  protected tableName = 'companies'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table
        .integer('full_numbers_declared_by')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('users')
        .onDelete('SET NULL')
      table.timestamp('full_numbers_declared_at', { useTz: true }).nullable()
      table.text('full_numbers_declaration').nullable()
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropForeign(['full_numbers_declared_by'])
      table.dropColumn('full_numbers_declared_by')
      table.dropColumn('full_numbers_declared_at')
      table.dropColumn('full_numbers_declaration')
    })
  }
}
