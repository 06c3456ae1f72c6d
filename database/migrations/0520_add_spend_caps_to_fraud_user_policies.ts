import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Spend caps per user, set by the company's admins (1/10,000 cent, billing's unit; null: none):
 * today's and this month's cost of the user's calls plus their running calls' accrued cost.
 */
export default class extends BaseSchema {
  protected tableName = 'fraud_user_policies'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.bigInteger('daily_cap_micro').nullable()
      table.bigInteger('monthly_cap_micro').nullable()
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('daily_cap_micro')
      table.dropColumn('monthly_cap_micro')
    })
  }
}
