import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Internal calls have a user on both ends: `user_id` is the caller, `callee_user_id` the colleague
 * who was called (their call history shows the call too). Null for calls to or from outside.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.alterTable('call_records', (table) => {
      table
        .integer('callee_user_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
        .index()
    })
  }

  async down() {
    this.schema.alterTable('call_records', (table) => {
      table.dropColumn('callee_user_id')
    })
  }
}
