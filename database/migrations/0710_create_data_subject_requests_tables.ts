import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Data-subject requests (Art. 15-21 GDPR) with the Art. 12(3) deadline, the export archives they
 * produce (Art. 15 and 20), and the pending e-mail changes a user confirms at the new address
 * (Art. 16).
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('data_subject_requests', (table) => {
      table.increments('id')
      table
        .integer('company_id')
        .unsigned()
        .nullable()
        .references('companies.id')
        .onDelete('CASCADE')
        .index()
      table.integer('user_id').unsigned().nullable().references('users.id').onDelete('SET NULL')
      // Who asked and where the answer goes (a request by mail may come from someone without an account)
      table.string('subject_name', 200).notNullable()
      table.string('subject_email', 254).notNullable()
      // access | rectification | erasure | objection
      table.string('kind', 20).notNullable()
      // self_service | mail | company_admin
      table.string('channel', 20).notNullable()
      table.text('details').nullable()
      // open | completed | rejected
      table.string('status', 12).notNullable().defaultTo('open')
      table.timestamp('received_at', { useTz: true }).notNullable()
      table.timestamp('due_at', { useTz: true }).notNullable()
      table.timestamp('extended_at', { useTz: true }).nullable()
      table.text('extension_reason').nullable()
      table.text('outcome').nullable()
      table
        .integer('handled_by_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
      table.timestamp('closed_at', { useTz: true }).nullable()
      table.index(['status', 'due_at'])
    })

    this.schema.createTable('data_export_archives', (table) => {
      table.increments('id')
      table
        .integer('request_id')
        .unsigned()
        .notNullable()
        .references('data_subject_requests.id')
        .onDelete('CASCADE')
        .unique()
      table.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE')
      table.binary('archive').notNullable()
      table.string('sha256', 64).notNullable()
      table.integer('size_bytes').notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('expires_at', { useTz: true }).notNullable().index()
    })

    this.schema.createTable('email_change_tokens', (table) => {
      table.increments('id')
      table.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE')
      table.string('new_email', 254).notNullable()
      table.string('token_hash', 64).notNullable().unique()
      table.timestamp('expires_at', { useTz: true }).notNullable().index()
      table.timestamp('used_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable('email_change_tokens')
    this.schema.dropTable('data_export_archives')
    this.schema.dropTable('data_subject_requests')
  }
}
