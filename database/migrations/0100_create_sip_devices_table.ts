import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Customers' own SIP phones. Only what digest authentication needs is kept: the HA1 values,
 * encrypted with the app key; never the password.
 */
export default class extends BaseSchema {
  protected tableName = 'sip_devices'

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
      table.string('label', 100).notNullable()
      table.string('sip_username', 64).notNullable().unique()
      // HA1 is H(username:realm:password): a realm change invalidates it, so the realm is kept beside it.
      table.string('realm', 253).notNullable()
      table.text('ha1_md5').notNullable()
      table.text('ha1_sha256').notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('revoked_at', { useTz: true }).nullable()
      table.timestamp('last_registered_at', { useTz: true }).nullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
