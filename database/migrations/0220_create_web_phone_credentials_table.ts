import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Short-lived SIP credentials of the web phone, issued to a logged-in browser session. Like
 * sip_devices only the HA1 values are kept (encrypted); the password is returned once and never
 * stored. A credential dies at `expires_at` or when revoked (logout, password change, user
 * disabled, company suspended or terminated).
 */
export default class extends BaseSchema {
  protected tableName = 'web_phone_credentials'

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
        .integer('user_id')
        .unsigned()
        .notNullable()
        .references('users.id')
        .onDelete('CASCADE')
        .index()
      table.string('sip_username', 64).notNullable().unique()
      table.string('realm', 253).notNullable()
      table.text('ha1_md5').notNullable()
      table.text('ha1_sha256').notNullable()
      // SHA-256 of the web session id: logout revokes the credentials of that session only.
      table.string('session_digest', 64).nullable().index()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('expires_at', { useTz: true }).notNullable().index()
      table.timestamp('revoked_at', { useTz: true }).nullable()
      table.timestamp('last_registered_at', { useTz: true }).nullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
