import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * A user's line inside the company: the internal extension (2-4 digits, chosen by the company's
 * admins, unique per company) and the user's own call settings that only calls read: do not
 * disturb and call waiting. One row per user, created when one of them is first set.
 */
export default class extends BaseSchema {
  protected tableName = 'internal_lines'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.integer('user_id').unsigned().primary().references('users.id').onDelete('CASCADE')
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .references('companies.id')
        .onDelete('CASCADE')
      table.string('extension', 4).nullable()
      table.boolean('do_not_disturb').notNullable().defaultTo(false)
      table.boolean('call_waiting').notNullable().defaultTo(true)
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      // NULLs never collide: users without an extension do not block each other.
      table.unique(['company_id', 'extension'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
