import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Holds on a company's call records for a billing dispute (TDDDG § 10): while a hold is open, the
 * records started in its period outlive the six months; released, they go with the next run.
 */
export default class extends BaseSchema {
  protected tableName = 'call_record_holds'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .references('companies.id')
        .onDelete('CASCADE')
      table.timestamp('from_at', { useTz: true }).notNullable()
      table.timestamp('until_at', { useTz: true }).notNullable()
      // What is disputed, e.g. the invoice number and the customer's letter
      table.string('reason', 500).notNullable()
      table
        .integer('placed_by_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
      table.timestamp('placed_at', { useTz: true }).notNullable()
      table
        .integer('released_by_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
      table.timestamp('released_at', { useTz: true }).nullable().index()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
