import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Per leg of a call, whether its signalling (TLS, WSS) and its media (SRTP, DTLS-SRTP) were
 * encrypted: the published statement promises transport encryption, and this is how its share
 * is measured. Null where it is not known (calls before this column, refusals before a leg).
 */
export default class extends BaseSchema {
  async up() {
    this.schema.alterTable('call_records', (table) => {
      table.boolean('caller_signalling_encrypted').nullable()
      table.boolean('caller_media_encrypted').nullable()
      table.boolean('callee_signalling_encrypted').nullable()
      table.boolean('callee_media_encrypted').nullable()
    })
  }

  async down() {
    this.schema.alterTable('call_records', (table) => {
      table.dropColumn('caller_signalling_encrypted')
      table.dropColumn('caller_media_encrypted')
      table.dropColumn('callee_signalling_encrypted')
      table.dropColumn('callee_media_encrypted')
    })
  }
}
