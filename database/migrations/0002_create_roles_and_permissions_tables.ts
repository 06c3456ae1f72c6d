import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  async up() {
    this.schema.createTable('permissions', (table) => {
      table.increments('id')
      table.string('name', 80).notNullable().unique()
      table.string('scope', 16).notNullable()
    })
    this.schema.createTable('roles', (table) => {
      table.increments('id')
      table.string('name', 60).notNullable().unique()
      table.string('scope', 16).notNullable()
    })
    this.schema.createTable('role_permissions', (table) => {
      table.integer('role_id').unsigned().notNullable().references('roles.id').onDelete('CASCADE')
      table
        .integer('permission_id')
        .unsigned()
        .notNullable()
        .references('permissions.id')
        .onDelete('CASCADE')
      table.primary(['role_id', 'permission_id'])
    })
  }

  async down() {
    this.schema.dropTable('role_permissions')
    this.schema.dropTable('roles')
    this.schema.dropTable('permissions')
  }
}
