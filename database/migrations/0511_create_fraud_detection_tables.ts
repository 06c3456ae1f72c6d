import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Anomaly detection (issue 14): the signals that fired with their evidence, the review cases staff
 * decide, and numbers flagged by a Wangiri signal (call-backs refused for some days).
 */
export default class extends BaseSchema {
  async up() {
    // One row per signal that fired: why (the figures), at which level; evidence for the review.
    this.schema.createTable('fraud_signals', (table) => {
      table.bigIncrements('id')
      table
        .integer('company_id')
        .unsigned()
        .nullable()
        .references('companies.id')
        .onDelete('CASCADE')
        .index()
      table.integer('user_id').unsigned().nullable().references('users.id').onDelete('SET NULL')
      table.string('signal', 40).notNullable()
      // warning | critical
      table.string('level', 10).notNullable()
      // the deduplication key of the alert channel
      table.string('alert_key', 160).notNullable().index()
      // JSON: the figures that triggered it (counts, thresholds, numbers, countries)
      table.text('facts').notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable().index()
    })

    // A company queued for staff review after a critical signal suspended it.
    this.schema.createTable('fraud_review_cases', (table) => {
      table.increments('id')
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .references('companies.id')
        .onDelete('CASCADE')
        .index()
      // open | cleared | confirmed
      table.string('status', 12).notNullable().defaultTo('open')
      table
        .bigInteger('signal_id')
        .unsigned()
        .nullable()
        .references('fraud_signals.id')
        .onDelete('SET NULL')
      // the suspension before the automatic one, restored when the case is cleared
      table.string('previous_suspension', 24).notNullable().defaultTo('none')
      table
        .integer('decided_by_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
      table.text('decision_reason').nullable()
      table.timestamp('decided_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })

    // Caller numbers of short inbound calls from unusual countries: calling them back is refused.
    this.schema.createTable('fraud_flagged_numbers', (table) => {
      table.increments('id')
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .references('companies.id')
        .onDelete('CASCADE')
      table.string('number', 32).notNullable()
      table.string('reason', 40).notNullable()
      table.timestamp('flagged_until', { useTz: true }).notNullable().index()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.unique(['company_id', 'number'])
    })
  }

  async down() {
    this.schema.dropTable('fraud_flagged_numbers')
    this.schema.dropTable('fraud_review_cases')
    this.schema.dropTable('fraud_signals')
  }
}
