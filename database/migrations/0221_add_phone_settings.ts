import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Phone settings read by the B2BUA: a user's CLIR default and whether anonymous callers are
 * rejected, and the company's choice for destination numbers in call lists and itemised bills
 * (full, or shortened by the last three digits; shortened unless the company asks otherwise).
 */
export default class extends BaseSchema {
  async up() {
    this.schema.alterTable('users', (table) => {
      table.boolean('clir_default').notNullable().defaultTo(false)
      table.boolean('reject_anonymous').notNullable().defaultTo(false)
    })
    this.schema.alterTable('companies', (table) => {
      // full | shortened
      table.string('itemised_numbers', 16).notNullable().defaultTo('shortened')
    })
  }

  async down() {
    this.schema.alterTable('users', (table) => {
      table.dropColumn('clir_default')
      table.dropColumn('reject_anonymous')
    })
    this.schema.alterTable('companies', (table) => {
      table.dropColumn('itemised_numbers')
    })
  }
}
