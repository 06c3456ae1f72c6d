import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Server-side web sessions. `sessions` is @adonisjs/session's database store (the session data;
 * the cookie carries only the id). `web_sessions` is our register of logged-in sessions: what the
 * security page lists and what revocation ends. It keeps a digest of the session id (looked up on
 * every request) and the id itself encrypted (to destroy the store's data when a session is ended
 * from elsewhere). Rows are deleted 7 days after the session ended or expired (WebSessionRetentionJob).
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('sessions', (table) => {
      table.string('id', 64).primary()
      table.string('user_id', 64).nullable().index()
      table.text('data').notNullable()
      table.timestamp('expires_at', { useTz: true }).notNullable().index()
    })

    this.schema.createTable('web_sessions', (table) => {
      table.increments('id')
      table
        .integer('user_id')
        .unsigned()
        .notNullable()
        .references('users.id')
        .onDelete('CASCADE')
        .index()
      table.string('session_digest', 64).notNullable().unique()
      table.text('sealed_session_id').notNullable()
      table.string('user_agent', 512).nullable()
      table.string('ip', 45).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('last_used_at', { useTz: true }).notNullable()
      table.timestamp('expires_at', { useTz: true }).notNullable().index()
      table.timestamp('ended_at', { useTz: true }).nullable().index()
      table.string('end_reason', 32).nullable()
    })
  }

  async down() {
    this.schema.dropTable('web_sessions')
    this.schema.dropTable('sessions')
  }
}
