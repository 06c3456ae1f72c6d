import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The addresses each SIP phone registered from successfully: the right password from one of them
 * passes a brute-force lock (an office behind one NAT address is not shut out by one
 * misconfigured phone). Kept 90 days after the last registration from the address, at most 10 per
 * device, and deleted with the device's revocation.
 */
export default class extends BaseSchema {
  protected tableName = 'sip_device_addresses'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table
        .integer('sip_device_id')
        .unsigned()
        .notNullable()
        .references('sip_devices.id')
        .onDelete('CASCADE')
      // IPv6 without brackets, at most 45 characters.
      table.string('address', 45).notNullable()
      table.timestamp('first_registered_at', { useTz: true }).notNullable()
      table.timestamp('last_registered_at', { useTz: true }).notNullable().index()
      table.unique(['sip_device_id', 'address'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
