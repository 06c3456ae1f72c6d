import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Crash recovery ends the customer's side of a call too (issue 23): besides the carrier dialog a
 * call keeps its user legs' dialogs (a desk phone, a browser behind a SIP front), one row per
 * dialog, written in the same insert. So a call may have several rows, and each row says which
 * party its dialog leads to.
 */
export default class extends BaseSchema {
  protected tableName = 'active_call_legs'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropUnique(['call_record_id'])
      table.index(['call_record_id'], 'active_call_legs_call_record_id_index')
      table.string('party', 8).notNullable().defaultTo('carrier')
    })
  }

  async down() {
    this.defer(async (db) => {
      await db.from(this.tableName).where('party', '<>', 'carrier').delete()
    })
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('party')
      table.dropIndex(['call_record_id'], 'active_call_legs_call_record_id_index')
      table.unique(['call_record_id'])
    })
  }
}
