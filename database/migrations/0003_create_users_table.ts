import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'users'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table
        .integer('company_id')
        .unsigned()
        .nullable()
        .references('companies.id')
        .onDelete('CASCADE')
        .index()
      table.integer('role_id').unsigned().notNullable().references('roles.id')
      table.boolean('is_staff').notNullable().defaultTo(false)
      table.string('full_name', 200).notNullable()
      table.string('email', 254).notNullable().unique()
      table.string('password').notNullable()
      table.string('locale', 5).notNullable().defaultTo('de')
      table.string('emergency_street', 200).nullable()
      table.string('emergency_postal_code', 16).nullable()
      table.string('emergency_city', 120).nullable()
      table.string('emergency_country', 2).nullable()
      table.text('totp_secret').nullable()
      table.timestamp('totp_enabled_at', { useTz: true }).nullable()
      table.bigInteger('totp_last_step').nullable()
      table.text('recovery_codes').nullable()
      table.timestamp('password_changed_at', { useTz: true }).nullable()
      table.timestamp('disabled_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
