import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Call forwarding per company number (set by the company's admins): at most one rule per
 * condition, each to a colleague or to an external number, like a user's own rules. A sibling of
 * call_forwardings rather than a nullable user_id there: SQLite cannot relax a NOT NULL column
 * without rebuilding the table, and each table keeps one owner per row. `set_by_user_id` is the
 * admin who last set the rule: an external forwarding of a number no user holds is placed as
 * their outbound call (gates and limits need a user).
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('phone_number_forwardings', (table) => {
      table.increments('id')
      table
        .integer('phone_number_id')
        .unsigned()
        .notNullable()
        .references('phone_numbers.id')
        .onDelete('CASCADE')
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .references('companies.id')
        .onDelete('CASCADE')
      table.string('condition', 16).notNullable()
      table
        .integer('target_user_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('CASCADE')
      table.string('target_number', 32).nullable()
      table.integer('ring_seconds').nullable()
      table
        .integer('set_by_user_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.unique(['phone_number_id', 'condition'])
    })
  }

  async down() {
    this.schema.dropTable('phone_number_forwardings')
  }
}
