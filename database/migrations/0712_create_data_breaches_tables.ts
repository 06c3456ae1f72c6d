import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Personal-data breaches (Art. 33, 34 GDPR): the record of each breach (Art. 33(5)), the 72-hour
 * deadline for the authority where FluffyCall is controller, and which customer companies were
 * notified when (Art. 33(2): as processor, without undue delay).
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('data_breaches', (table) => {
      table.increments('id')
      table.string('title', 200).notNullable()
      // What happened, the data and people concerned, the likely consequences, the measures (Art. 33(3))
      table.text('nature').notNullable()
      table.text('data_concerned').notNullable()
      table.text('consequences').notNullable()
      table.text('measures').notNullable()
      // controller | processor | both: in whose role FluffyCall was hit
      table.string('role', 12).notNullable()
      table.timestamp('became_aware_at', { useTz: true }).notNullable()
      table.timestamp('authority_due_at', { useTz: true }).notNullable()
      table.timestamp('authority_notified_at', { useTz: true }).nullable()
      table.string('authority_reference', 120).nullable()
      table.text('delay_reason').nullable()
      // open | closed
      table.string('status', 8).notNullable().defaultTo('open')
      table
        .integer('recorded_by_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('closed_at', { useTz: true }).nullable()
    })
    this.schema.createTable('data_breach_notices', (table) => {
      table.increments('id')
      table
        .integer('breach_id')
        .unsigned()
        .notNullable()
        .references('data_breaches.id')
        .onDelete('CASCADE')
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .references('companies.id')
        .onDelete('CASCADE')
      table.integer('recipients').notNullable()
      table.timestamp('notified_at', { useTz: true }).notNullable()
      table.unique(['breach_id', 'company_id'])
    })
  }

  async down() {
    this.schema.dropTable('data_breach_notices')
    this.schema.dropTable('data_breaches')
  }
}
