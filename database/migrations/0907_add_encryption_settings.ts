import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * "Encrypted only" per company (issue 19): its SIP phones must register and call over TLS. New
 * companies get it at sign-up (CompanyService); companies that exist keep their phones working
 * until an owner turns it on, so the column defaults to off.
 *
 * Per device, how it last registered (udp, tcp, tls), whether the media of its last call was
 * encrypted (SRTP), and why it was last refused (a stable code, shown on the devices page in the
 * user's words), so a company sees which phones talk in the clear.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.alterTable('companies', (table) => {
      table.boolean('encrypted_only').notNullable().defaultTo(false)
    })
    this.schema.alterTable('sip_devices', (table) => {
      table.string('last_transport', 8).nullable()
      table.timestamp('last_call_at', { useTz: true }).nullable()
      table.boolean('last_call_encrypted').nullable()
      table.string('last_refusal', 40).nullable()
      table.timestamp('last_refused_at', { useTz: true }).nullable()
    })
  }

  async down() {
    this.schema.alterTable('sip_devices', (table) => {
      table.dropColumn('last_refused_at')
      table.dropColumn('last_refusal')
      table.dropColumn('last_call_encrypted')
      table.dropColumn('last_call_at')
      table.dropColumn('last_transport')
    })
    this.schema.alterTable('companies', (table) => {
      table.dropColumn('encrypted_only')
    })
  }
}
