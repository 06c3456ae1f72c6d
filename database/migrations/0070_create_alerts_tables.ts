import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The one alert channel (app/core/alerts): an alert per key while it is open, and the history of
 * what happened to it (raised, escalated, cleared), each event delivered by mail and webhook.
 * At most one open alert per key (a partial unique index on both SQLite and PostgreSQL), so two
 * nodes raising the same key at once end with one alert.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('alerts', (table) => {
      table.increments('id')
      // What the alert is about, stable across raises: 'carrier_down:eu_alpha', 'fraud.burst:42'
      table.string('key', 191).notNullable().index()
      // The kind names the words shown for it (alerts.kinds.<kind>): 'carrier_down', 'fraud.burst'
      table.string('kind', 64).notNullable()
      // warning | critical
      table.string('severity', 16).notNullable()
      // open | cleared
      table.string('status', 16).notNullable()
      table
        .integer('company_id')
        .unsigned()
        .nullable()
        .references('companies.id')
        .onDelete('CASCADE')
        .index()
      // Whether the company's owners and admins hear of it too (fraud alerts about their account)
      table.boolean('notify_company').notNullable().defaultTo(false)
      // The figures that triggered it, as of the last raise (JSON)
      table.text('facts').notNullable()
      table.integer('raise_count').notNullable().defaultTo(1)
      table.timestamp('raised_at', { useTz: true }).notNullable()
      table.timestamp('last_raised_at', { useTz: true }).notNullable()
      table.timestamp('cleared_at', { useTz: true }).nullable().index()
    })
    this.schema.raw(
      `create unique index alerts_one_open_per_key on alerts (key) where status = 'open'`
    )

    this.schema.createTable('alert_events', (table) => {
      table.increments('id')
      table
        .integer('alert_id')
        .unsigned()
        .notNullable()
        .references('alerts.id')
        .onDelete('CASCADE')
        .index()
      // raised | escalated | cleared
      table.string('event', 16).notNullable()
      table.string('severity', 16).notNullable()
      table.text('facts').notNullable()
      table.timestamp('at', { useTz: true }).notNullable()
      // none (no webhook configured) | pending | delivered | failed (given up)
      table.string('webhook_status', 16).notNullable()
      table.integer('webhook_attempts').notNullable().defaultTo(0)
      table.timestamp('webhook_next_attempt_at', { useTz: true }).nullable().index()
      table.string('webhook_error', 200).nullable()
      table.timestamp('mailed_at', { useTz: true }).nullable()
    })
  }

  async down() {
    this.schema.dropTable('alert_events')
    this.schema.dropTable('alerts')
  }
}
