import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The exact cost of a call in 1/10,000 cent (cost_micro) beside the whole cents the call history
 * shows (cost_cents = cost_micro / 10,000 rounded half up), and when it was rated: rating sets
 * rated_at only where it is still null, so a repeated call:ended never rates twice.
 */
export default class extends BaseSchema {
  protected tableName = 'call_records'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.bigInteger('cost_micro').nullable()
      table.timestamp('rated_at', { useTz: true }).nullable()
      // free | priced | unpriced (no price list had the destination)
      table.string('rating', 16).nullable()
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('rating')
      table.dropColumn('rated_at')
      table.dropColumn('cost_micro')
    })
  }
}
