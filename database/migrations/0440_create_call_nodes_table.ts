import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The nodes that carry calls and when each last said it lives (every sweep interval). A node
 * silent for longer than CALL_NODE_LOST_AFTER_SECONDS is lost: another node closes its CDRs.
 * No personal data: node names and times only.
 */
export default class extends BaseSchema {
  protected tableName = 'call_nodes'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('node_id', 64).primary()
      table.timestamp('last_seen_at', { useTz: true }).notNullable().index()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
