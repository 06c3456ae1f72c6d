import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The address a web phone login was issued to (over the logged-in web session): the right
 * password from there passes a brute-force lock on a shared office address.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.alterTable('web_phone_credentials', (table) => {
      table.string('issued_address', 45).nullable()
    })
  }

  async down() {
    this.schema.alterTable('web_phone_credentials', (table) => {
      table.dropColumn('issued_address')
    })
  }
}
