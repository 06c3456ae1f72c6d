import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Whether a call was end-to-end encrypted between two browsers (issue 22): both browsers
 * confirmed their keys for the same pairing. Stays true when a transfer later took the call to a
 * SIP phone (it was end-to-end encrypted for a part); false for everything else.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.alterTable('call_records', (table) => {
      table.boolean('end_to_end_encrypted').notNullable().defaultTo(false)
    })
  }

  async down() {
    this.schema.alterTable('call_records', (table) => {
      table.dropColumn('end_to_end_encrypted')
    })
  }
}
