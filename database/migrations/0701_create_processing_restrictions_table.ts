import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Restriction of processing (Art. 18 GDPR) for one user: while a row has no `lifted_at`, the
 * user's data is only stored (and used for legal claims); calls and anomaly baselines leave it out.
 */
export default class extends BaseSchema {
  protected tableName = 'processing_restrictions'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE')
      table
        .integer('company_id')
        .unsigned()
        .nullable()
        .references('companies.id')
        .onDelete('CASCADE')
      table.string('ground', 40).notNullable()
      table.text('note').nullable()
      table
        .integer('restricted_by_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
      table.timestamp('restricted_at', { useTz: true }).notNullable()
      table
        .integer('lifted_by_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
      table.timestamp('lifted_at', { useTz: true }).nullable()
      table.index(['user_id', 'lifted_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
