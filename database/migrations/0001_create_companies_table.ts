import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'companies'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('legal_name', 200).notNullable()
      table.string('legal_form', 60).notNullable()
      table.string('vat_id', 20).nullable()
      table.string('register_entry', 120).nullable()
      table.string('country', 2).notNullable()
      table.string('billing_street', 200).notNullable()
      table.string('billing_postal_code', 16).notNullable()
      table.string('billing_city', 120).notNullable()
      table.string('billing_country', 2).notNullable()
      table.string('privacy_contact_name', 200).notNullable()
      table.string('privacy_contact_email', 254).notNullable()
      table.string('status', 16).notNullable().defaultTo('pending').index()
      table.string('data_residency', 24).notNullable().defaultTo('eu_only')
      table.string('region', 16).notNullable().defaultTo('eu')
      table.timestamp('approved_at', { useTz: true }).nullable()
      table.timestamp('terminated_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
