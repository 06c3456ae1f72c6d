import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * A company owner's acceptance of one DPA version (Art. 28 GDPR): who, when, which version, from
 * which address, and the document with its annexes as they stood then (JSON, with its SHA-256).
 */
export default class extends BaseSchema {
  protected tableName = 'dpa_acceptances'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .references('companies.id')
        .onDelete('CASCADE')
      table.string('version', 20).notNullable()
      table.string('locale', 2).notNullable()
      table
        .integer('accepted_by_user_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
      table.string('accepted_by_name', 200).notNullable()
      table.string('accepted_by_email', 254).notNullable()
      table.string('ip', 45).nullable()
      table.timestamp('accepted_at', { useTz: true }).notNullable()
      table.text('snapshot').notNullable()
      table.string('snapshot_hash', 64).notNullable()
      table.index(['company_id', 'accepted_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
