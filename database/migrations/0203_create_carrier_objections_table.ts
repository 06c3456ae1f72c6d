import { BaseSchema } from '@adonisjs/lucid/schema'

/** Art. 28(2) GDPR: a company's objection keeps that carrier out of its routes. */
export default class extends BaseSchema {
  protected tableName = 'carrier_objections'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .references('companies.id')
        .onDelete('CASCADE')
      table.string('carrier_name', 40).notNullable()
      table
        .integer('objected_by_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.unique(['company_id', 'carrier_name'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
