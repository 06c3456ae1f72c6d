import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * A web phone login belongs to the web session it was issued to: the digest server accepts it only
 * while that session's register row is live, so a session ended on any node (or by a revocation
 * whose event did not reach this one) takes its SIP login with it. Null for logins issued before.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.alterTable('web_phone_credentials', (table) => {
      table
        .integer('web_session_id')
        .unsigned()
        .nullable()
        .references('web_sessions.id')
        .onDelete('SET NULL')
        .index()
    })
  }

  async down() {
    this.schema.alterTable('web_phone_credentials', (table) => {
      table.dropForeign(['web_session_id'])
      table.dropColumn('web_session_id')
    })
  }
}
