import { BaseSchema } from '@adonisjs/lucid/schema'

/** One row per (region, destination prefix, carrier): the carriers of a route with priority and weight. */
export default class extends BaseSchema {
  protected tableName = 'carrier_routes'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('region', 16).notNullable()
      // E.164 digits without "+"; the empty prefix is the region's default route.
      table.string('prefix', 15).notNullable().defaultTo('')
      table.string('carrier_name', 40).notNullable()
      table.integer('priority').notNullable().defaultTo(1)
      table.integer('weight').notNullable().defaultTo(100)
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.unique(['region', 'prefix', 'carrier_name'])
      table.index(['region', 'prefix'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
