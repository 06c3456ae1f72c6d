import { BaseSchema } from '@adonisjs/lucid/schema'

/** Public history of sub-processor changes (page and Atom feed); append-only. */
export default class extends BaseSchema {
  protected tableName = 'sub_processor_changes'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('carrier_name', 40).notNullable()
      table.string('change', 16).notNullable()
      table.timestamp('effective_at', { useTz: true }).notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable().index()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
