import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The carrier-side dialog of every answered call, written at answer and deleted at the end, so a
 * process restarted after a crash or SIGKILL can send BYE on the carrier legs it owned and close
 * their CDRs. Identifiers only: no media, no SDP.
 */
export default class extends BaseSchema {
  protected tableName = 'active_call_legs'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table
        .integer('call_record_id')
        .unsigned()
        .notNullable()
        .references('call_records.id')
        .onDelete('CASCADE')
        .unique()
      table.string('node_id', 64).notNullable().index()
      table.string('call_id', 255).notNullable()
      table.string('local_tag', 128).notNullable()
      table.string('remote_tag', 128).notNullable()
      table.text('local_uri').notNullable()
      table.text('remote_uri').notNullable()
      table.text('remote_target').notNullable()
      // JSON array of Route values, in order.
      table.text('route_set').notNullable()
      table.integer('local_seq').notNullable()
      table.string('protocol', 8).notNullable()
      table.string('host', 255).notNullable()
      table.integer('port').notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
