import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * A company's own time zone (IANA name): daily limits reset at its midnight and anomaly baselines
 * count hours of the week there. Europe/Berlin for every company until an admin says otherwise.
 */
export default class extends BaseSchema {
  protected tableName = 'companies'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.string('time_zone', 64).notNullable().defaultTo('Europe/Berlin')
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('time_zone')
    })
  }
}
