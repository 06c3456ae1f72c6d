import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * An owner's termination of the company's account: effective at `ends_at` (the end of the month it
 * was given in, German time), withdrawable until then, carried out by the account-end job.
 */
export default class extends BaseSchema {
  protected tableName = 'account_terminations'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .references('companies.id')
        .onDelete('CASCADE')
        .index()
      table
        .integer('requested_by_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
      table.timestamp('requested_at', { useTz: true }).notNullable()
      table.timestamp('ends_at', { useTz: true }).notNullable().index()
      table
        .integer('withdrawn_by_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
      table.timestamp('withdrawn_at', { useTz: true }).nullable()
      table.timestamp('carried_out_at', { useTz: true }).nullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
