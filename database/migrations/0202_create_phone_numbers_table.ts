import { BaseSchema } from '@adonisjs/lucid/schema'

/** Numbers we hold at a carrier; a number belongs to at most one company, and then to its users. */
export default class extends BaseSchema {
  protected tableName = 'phone_numbers'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('number', 16).notNullable().unique()
      table.string('carrier_name', 40).notNullable().index()
      table
        .integer('company_id')
        .unsigned()
        .nullable()
        .references('companies.id')
        .onDelete('SET NULL')
        .index()
      table.integer('user_id').unsigned().nullable().references('users.id').onDelete('SET NULL')
      table.timestamp('assigned_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
