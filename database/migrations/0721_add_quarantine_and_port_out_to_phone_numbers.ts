import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * A released number rests in quarantine before it can be assigned again (callers of the old
 * holder must not reach a new one); a number the holder ports out to another provider is marked
 * while the port-out runs and leaves the inventory when it is done.
 */
export default class extends BaseSchema {
  protected tableName = 'phone_numbers'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.timestamp('quarantined_until', { useTz: true }).nullable()
      table.timestamp('port_out_requested_at', { useTz: true }).nullable()
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('quarantined_until')
      table.dropColumn('port_out_requested_at')
    })
  }
}
