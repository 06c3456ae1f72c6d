import { BaseSchema } from '@adonisjs/lucid/schema'

/** In-app notices to a customer company (e.g. a new sub-processor announced). */
export default class extends BaseSchema {
  protected tableName = 'company_notices'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .references('companies.id')
        .onDelete('CASCADE')
        .index()
      table.string('kind', 40).notNullable()
      table.string('carrier_name', 40).nullable()
      table.timestamp('effective_at', { useTz: true }).nullable()
      table.timestamp('read_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
