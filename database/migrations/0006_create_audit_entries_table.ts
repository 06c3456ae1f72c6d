import { BaseSchema } from '@adonisjs/lucid/schema'

/** Append-only: the application inserts, only the retention job deletes or shortens. */
export default class extends BaseSchema {
  protected tableName = 'audit_entries'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.bigIncrements('id')
      table.integer('actor_id').unsigned().nullable().references('users.id').onDelete('SET NULL')
      table.string('actor_email', 254).nullable()
      table
        .integer('company_id')
        .unsigned()
        .nullable()
        .references('companies.id')
        .onDelete('SET NULL')
        .index()
      table.string('action', 60).notNullable().index()
      table.string('target_type', 40).nullable()
      table.string('target_id', 64).nullable()
      table.text('details').nullable()
      table.string('ip', 45).nullable()
      table.boolean('ip_shortened').notNullable().defaultTo(false)
      table.timestamp('created_at', { useTz: true }).notNullable().index()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
