import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Presence in the web phone's colleague list is the company's decision (in Germany the works
 * council has a say, § 87(1) Nr. 6 BetrVG): off until its owners turn it on (Art. 25(2) GDPR,
 * privacy by default). Each user may still keep their own presence hidden.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('internal_settings', (table) => {
      table
        .integer('company_id')
        .unsigned()
        .primary()
        .references('companies.id')
        .onDelete('CASCADE')
      table.boolean('presence_enabled').notNullable().defaultTo(false)
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
    this.schema.alterTable('internal_lines', (table) => {
      table.boolean('share_presence').notNullable().defaultTo(true)
    })
  }

  async down() {
    this.schema.alterTable('internal_lines', (table) => {
      table.dropColumn('share_presence')
    })
    this.schema.dropTable('internal_settings')
  }
}
