import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Each user's default caller ID: one of the numbers the user may present. Kept apart from `users`
 * (owned by accounts); released or deleted numbers take their rows with them.
 */
export default class extends BaseSchema {
  protected tableName = 'default_caller_ids'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table
        .integer('user_id')
        .unsigned()
        .notNullable()
        .unique()
        .references('users.id')
        .onDelete('CASCADE')
      table
        .integer('phone_number_id')
        .unsigned()
        .notNullable()
        .references('phone_numbers.id')
        .onDelete('CASCADE')
        .index()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
