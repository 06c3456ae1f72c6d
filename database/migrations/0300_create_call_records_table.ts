import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Call detail records: one row per call attempt (failed and cancelled ones too), written when the
 * attempt starts and completed when it ends. Nothing else about a call is stored; call content never.
 */
export default class extends BaseSchema {
  protected tableName = 'call_records'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      // Public handle (live calls admin, the web phone's history) that reveals no row count.
      table.string('uuid', 36).notNullable().unique()
      table
        .integer('company_id')
        .unsigned()
        .nullable()
        .references('companies.id')
        .onDelete('CASCADE')
        .index()
      table
        .integer('user_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
        .index()
      // outbound | inbound | echo_test
      table.string('direction', 16).notNullable()
      table.boolean('emergency').notNullable().defaultTo(false)
      // E.164 with "+", a short code (110), or null for a withheld caller.
      table.string('caller_number', 32).nullable()
      table.string('callee_number', 32).nullable()
      // The caller asked to withhold the number (CLIR); emergency calls ignore it.
      table.boolean('caller_withheld').notNullable().defaultTo(false)
      table.string('carrier_name', 40).nullable()
      table.string('region', 16).nullable()
      table.timestamp('started_at', { useTz: true }).notNullable().index()
      table.timestamp('answered_at', { useTz: true }).nullable()
      table.timestamp('ended_at', { useTz: true }).nullable()
      table.integer('duration_seconds').nullable()
      table.integer('sip_status').nullable()
      // answered_normal | busy | no_answer | rejected | cancelled | unreachable | refused | failed | missed | media_timeout | system_shutdown | crash_recovery
      table.string('disconnect_cause', 32).nullable()
      // caller | callee | system
      table.string('hung_up_by', 8).nullable()
      // Filled by billing later; null until rated.
      table.integer('cost_cents').nullable()
      table.string('node_id', 64).nullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
