import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Monthly fees per user seat and per number, in 1/10,000 cent, priced with the version like the
 * call rates. Null in a company's override means the default list's fee applies.
 */
export default class extends BaseSchema {
  protected tableName = 'price_list_versions'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.bigInteger('seat_fee_per_month').nullable()
      table.bigInteger('number_fee_per_month').nullable()
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('number_fee_per_month')
      table.dropColumn('seat_fee_per_month')
    })
  }
}
