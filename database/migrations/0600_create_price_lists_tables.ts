import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Tariffs. A price list is the default one (company_id null) or a company's override; it has
 * versions valid from a date, and each version prices destinations by E.164 prefix. Amounts are
 * integers in 1/10,000 cent (0.89 ct/min = 8900), so sub-cent rates stay exact.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('price_lists', (table) => {
      table.increments('id')
      table.string('name', 80).notNullable()
      // null: the default list; otherwise the company's override (at most one per company)
      table
        .integer('company_id')
        .unsigned()
        .nullable()
        .unique()
        .references('companies.id')
        .onDelete('CASCADE')
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
    this.schema.createTable('price_list_versions', (table) => {
      table.increments('id')
      table
        .integer('price_list_id')
        .unsigned()
        .notNullable()
        .references('price_lists.id')
        .onDelete('CASCADE')
      // A call is rated by the version with the latest valid_from at or before its start
      table.timestamp('valid_from', { useTz: true }).notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.unique(['price_list_id', 'valid_from'])
    })
    this.schema.createTable('price_list_rates', (table) => {
      table.increments('id')
      table
        .integer('price_list_version_id')
        .unsigned()
        .notNullable()
        .references('price_list_versions.id')
        .onDelete('CASCADE')
      // E.164 digits without "+"; the longest matching prefix wins
      table.string('prefix', 15).notNullable()
      table.string('destination', 80).notNullable()
      table.bigInteger('price_per_minute').notNullable()
      table.bigInteger('connection_fee').notNullable().defaultTo(0)
      // Billing increment: the first interval and every next one, in seconds (60/60, 60/1, 1/1)
      table.integer('first_interval').notNullable()
      table.integer('next_interval').notNullable()
      table.unique(['price_list_version_id', 'prefix'])
    })
    // What a carrier charges us per destination (staff only): the margin is our price minus this
    this.schema.createTable('carrier_purchase_prices', (table) => {
      table.increments('id')
      table.string('carrier_name', 40).notNullable()
      table.string('prefix', 15).notNullable()
      table.bigInteger('price_per_minute').notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.unique(['carrier_name', 'prefix'])
    })
  }

  async down() {
    this.schema.dropTable('carrier_purchase_prices')
    this.schema.dropTable('price_list_rates')
    this.schema.dropTable('price_list_versions')
    this.schema.dropTable('price_lists')
  }
}
