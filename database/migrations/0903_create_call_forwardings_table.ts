import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Call forwarding per user: at most one rule per condition (always, when busy, after some seconds
 * without answer, when no device is reachable), each to a colleague or to an external number.
 * The call records say where a call was forwarded (`forwarded_to`, `forward_reason` on the call
 * that was forwarded) and, for the outbound call an external forwarding places, which call it
 * continues (`forwarded_from_uuid`): that call is the company's outbound call, rated and billed.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('call_forwardings', (table) => {
      table.increments('id')
      table.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE')
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
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.unique(['user_id', 'condition'])
    })
    this.schema.alterTable('call_records', (table) => {
      table.string('forwarded_to', 32).nullable()
      table.string('forward_reason', 16).nullable()
      table.string('forwarded_from_uuid', 36).nullable().index()
    })
  }

  async down() {
    this.schema.alterTable('call_records', (table) => {
      table.dropColumn('forwarded_from_uuid')
      table.dropColumn('forward_reason')
      table.dropColumn('forwarded_to')
    })
    this.schema.dropTable('call_forwardings')
  }
}
