import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Operators' state of each configured carrier (config declares the trunks). No row yet means
 * "configured, not announced". Credentials are AES-256-GCM ciphertext (app key), never plain.
 */
export default class extends BaseSchema {
  protected tableName = 'carrier_states'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('carrier_name', 40).notNullable().unique()
      table.boolean('enabled').notNullable().defaultTo(true)
      table.string('lifecycle', 16).nullable()
      table.timestamp('announced_at', { useTz: true }).nullable()
      table.timestamp('effective_at', { useTz: true }).nullable()
      table.timestamp('activated_at', { useTz: true }).nullable()
      table.timestamp('withdrawn_at', { useTz: true }).nullable()
      table.text('credentials_sealed').nullable()
      table.timestamp('credentials_updated_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
