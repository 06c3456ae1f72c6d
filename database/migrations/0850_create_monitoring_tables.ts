import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Operations monitoring (app/core/monitoring): the latest reading of each check (per subject, such
 * as a carrier), the state of each alert rule (failing or passing since when, for the hold times),
 * and when each scheduled job last succeeded (the "retention job missed" rule and the TOMs page).
 * None of it is personal data: check names, carrier names, figures and times.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('monitor_readings', (table) => {
      table.increments('id')
      table.string('check_name', 64).notNullable()
      // '' for a check with one reading; else what it is about ('eu_alpha' for a carrier)
      table.string('subject', 128).notNullable().defaultTo('')
      // null: nothing to judge (no calls in the window, backups off)
      table.double('value').nullable()
      // The figures behind the value (JSON), shown with an alert and on the TOMs page
      table.text('facts').notNullable()
      // When what the reading reports was observed (a carrier's last OPTIONS round), not when read
      table.timestamp('observed_at', { useTz: true }).notNullable()
      table.timestamp('read_at', { useTz: true }).notNullable()
      // How often what it reports is observed: not observed for two intervals counts as failing
      table.integer('interval_seconds').notNullable()
      // The check threw: the reading fails until the check answers again
      table.string('error', 200).nullable()
      table.unique(['check_name', 'subject'])
    })

    this.schema.createTable('alert_rule_states', (table) => {
      table.increments('id')
      table.string('rule', 64).notNullable()
      table.string('subject', 128).notNullable().defaultTo('')
      table.timestamp('failing_since', { useTz: true }).nullable()
      table.timestamp('passing_since', { useTz: true }).nullable()
      table.timestamp('evaluated_at', { useTz: true }).notNullable()
      table.unique(['rule', 'subject'])
    })

    this.schema.createTable('job_runs', (table) => {
      table.increments('id')
      table.string('job', 128).notNullable().unique()
      // How often it is scheduled; first scheduled at (a job that never succeeded counts from then)
      table.integer('interval_seconds').notNullable()
      table.timestamp('scheduled_at', { useTz: true }).notNullable()
      table.timestamp('last_success_at', { useTz: true }).nullable()
      table.timestamp('last_failure_at', { useTz: true }).nullable()
      table.string('last_error', 200).nullable()
    })
  }

  async down() {
    this.schema.dropTable('job_runs')
    this.schema.dropTable('alert_rule_states')
    this.schema.dropTable('monitor_readings')
  }
}
