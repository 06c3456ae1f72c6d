import { BaseSchema } from '@adonisjs/lucid/schema'

/** Requests for further information from the public transparency pages; a queue for the privacy role. */
export default class extends BaseSchema {
  protected tableName = 'information_requests'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('requester_name', 200).notNullable()
      table.string('requester_email', 254).notNullable()
      table.string('organisation', 200).nullable()
      table.string('topic', 32).notNullable()
      table.text('message').notNullable()
      table.string('locale', 5).notNullable()
      table.string('status', 16).notNullable().defaultTo('open').index()
      table
        .integer('handled_by_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
      table.timestamp('handled_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
