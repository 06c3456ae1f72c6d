import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Payments (issue 12): a company's payment method (SEPA direct debit mandate or bank transfer),
 * the payables (an invoice's gross amount to be paid, fed by the invoice model), the SEPA debits
 * collected for them, and the outbound suspension of a company whose payable is long overdue.
 * Bank details are stored only encrypted (mandate_sealed); card numbers are never stored.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('payment_methods', (table) => {
      table.increments('id')
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .unique()
        .references('companies.id')
        .onDelete('CASCADE')
      // sepa_debit | bank_transfer
      table.string('method', 20).notNullable()
      // Account holder, IBAN and BIC as one value encrypted with the app key (encryption service)
      table.text('mandate_sealed').nullable()
      // SEPA mandate reference (max 35 characters, unique per creditor)
      table.string('mandate_reference', 35).nullable().unique()
      table.date('mandate_signed_on').nullable()
      // CORE | B2B
      table.string('mandate_scheme', 4).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
    this.schema.createTable('payment_payables', (table) => {
      table.increments('id')
      table.string('invoice_number', 40).notNullable().unique()
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .references('companies.id')
        .onDelete('CASCADE')
      table.bigInteger('gross_cents').notNullable()
      table.string('currency', 3).notNullable()
      table.date('issued_on').notNullable()
      table.date('due_on').notNullable()
      // open | paid | returned (a returned debit leaves it unpaid) | cancelled (its invoice was)
      table.string('status', 12).notNullable().defaultTo('open')
      table.date('paid_on').nullable()
      // How many reminders were sent, and when the last one was
      table.integer('reminders_sent').notNullable().defaultTo(0)
      table.timestamp('last_reminded_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.index(['company_id', 'status'])
    })
    this.schema.createTable('sepa_debits', (table) => {
      table.increments('id')
      table
        .integer('payable_id')
        .unsigned()
        .notNullable()
        .references('payment_payables.id')
        .onDelete('CASCADE')
      // The pain.008 message (GrpHdr MsgId) the debit was sent in; one file per message
      table.string('message_id', 35).notNullable().index()
      table.string('mandate_reference', 35).notNullable()
      table.string('scheme', 4).notNullable()
      // FRST | RCUR (pain.008 SeqTp)
      table.string('sequence_type', 4).notNullable()
      table.bigInteger('amount_cents').notNullable()
      table.date('collection_on').notNullable()
      table.string('end_to_end_id', 35).notNullable().unique()
      // submitted | returned
      table.string('status', 12).notNullable().defaultTo('submitted')
      // ISO 20022 return reason (AC04, AM04, MD06 ...)
      table.string('return_reason', 4).nullable()
      table.timestamp('returned_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.index(['mandate_reference'])
    })
    this.schema.createTable('payment_suspensions', (table) => {
      table.increments('id')
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .references('companies.id')
        .onDelete('CASCADE')
      table
        .integer('payable_id')
        .unsigned()
        .notNullable()
        .references('payment_payables.id')
        .onDelete('CASCADE')
      table.timestamp('suspended_at', { useTz: true }).notNullable()
      table.timestamp('lifted_at', { useTz: true }).nullable()
      table.index(['company_id', 'lifted_at'])
    })
  }

  async down() {
    this.schema.dropTable('payment_suspensions')
    this.schema.dropTable('sepa_debits')
    this.schema.dropTable('payment_payables')
    this.schema.dropTable('payment_methods')
  }
}
