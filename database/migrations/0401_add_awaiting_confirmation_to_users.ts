import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * A self-signed-up owner logs in only after confirming the address through the mailed link, so
 * sign-up cannot tell whether an address has an account. Existing users are confirmed.
 */
export default class extends BaseSchema {
  protected tableName = 'users'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.boolean('awaiting_confirmation').notNullable().defaultTo(false)
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('awaiting_confirmation')
    })
  }
}
