import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Invoices (issue 12). An invoice is issued once, with its number, buyer data as they were on the
 * day of issue, its lines and its totals in whole cents; afterwards only `status` (open, paid,
 * cancelled …: the payment side reads and sets it) may change (model layer, and on PostgreSQL the
 * trigger of 0611). The issued XML and PDF bytes are kept with their SHA-256 and never regenerated
 * (GoBD). Numbers come from invoice_number_sequences inside the issuing transaction, so a rolled
 * back invoice gives its number back: no gaps.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.alterTable('companies', (table) => {
      // BT-10 Buyer reference, e.g. the Leitweg-ID of a public-sector buyer (XRechnung)
      table.string('buyer_reference', 200).nullable()
    })
    this.schema.createTable('invoice_number_sequences', (table) => {
      // One gapless series per calendar year of issue, e.g. "RE-2026"
      table.string('series', 16).primary()
      table.integer('last_value').notNullable().defaultTo(0)
    })
    this.schema.createTable('invoice_runs', (table) => {
      table.increments('id')
      table.integer('period_year').notNullable()
      table.integer('period_month').notNullable()
      // null: the scheduler started it
      table
        .integer('started_by_id')
        .unsigned()
        .nullable()
        .references('users.id')
        .onDelete('SET NULL')
      table.string('status', 16).notNullable()
      table.integer('issued_count').notNullable().defaultTo(0)
      table.integer('skipped_count').notNullable().defaultTo(0)
      table.integer('failed_count').notNullable().defaultTo(0)
      // JSON: per company what happened (issued number, skipped reason, error message)
      table.text('results').nullable()
      table.timestamp('started_at', { useTz: true }).notNullable()
      table.timestamp('finished_at', { useTz: true }).nullable()
    })
    this.schema.createTable('invoices', (table) => {
      table.increments('id')
      table.string('number', 24).notNullable().unique()
      // invoice (380), cancellation = Stornorechnung (381), correction = Rechnungskorrektur (384)
      table.string('type', 16).notNullable()
      // No cascade: invoices outlive the account (8 years, HGB § 257(4), AO § 147(3))
      table.integer('company_id').unsigned().notNullable().references('companies.id').index()
      table.integer('period_year').notNullable()
      table.integer('period_month').notNullable()
      // "<company>:<yyyy-mm>" for the month's invoice, so a second run cannot issue it twice
      table.string('run_key', 48).notNullable().unique()
      table.integer('preceding_invoice_id').unsigned().nullable().references('invoices.id')
      table
        .integer('invoice_run_id')
        .unsigned()
        .nullable()
        .references('invoice_runs.id')
        .onDelete('SET NULL')
      // Calendar dates in Europe/Berlin, YYYY-MM-DD (a string: drivers turn SQL dates into local-time objects)
      table.string('issue_date', 10).notNullable()
      table.string('due_date', 10).notNullable()
      table.string('currency', 3).notNullable().defaultTo('EUR')
      table.string('buyer_name', 260).notNullable()
      table.string('buyer_street', 200).notNullable()
      table.string('buyer_postal_code', 16).notNullable()
      table.string('buyer_city', 120).notNullable()
      table.string('buyer_country', 2).notNullable()
      table.string('buyer_vat_id', 20).nullable()
      table.string('buyer_reference', 200).nullable()
      // domestic | reverse_charge | not_taxable (app/billing/vat_rules.ts)
      table.string('vat_treatment', 16).notNullable()
      table.text('vat_note').nullable()
      table.bigInteger('net_cents').notNullable()
      table.bigInteger('vat_cents').notNullable()
      table.bigInteger('gross_cents').notNullable()
      // The only column that changes after issue: open, paid, cancelled (and what payment adds)
      table.string('status', 16).notNullable().defaultTo('open').index()
      table.timestamp('status_changed_at', { useTz: true }).nullable()
      table.timestamp('issued_at', { useTz: true }).notNullable()
    })
    this.schema.createTable('invoice_lines', (table) => {
      table.increments('id')
      table.integer('invoice_id').unsigned().notNullable().references('invoices.id').index()
      table.integer('position').notNullable()
      // calls | seats | numbers
      table.string('kind', 16).notNullable()
      table.string('description', 200).notNullable()
      table.integer('quantity').notNullable()
      // The exact sum in 1/10,000 cent and the line's whole cents (rounded once, half up)
      table.bigInteger('net_micro').notNullable()
      table.bigInteger('net_cents').notNullable()
      // UNTDID 5305: S (standard), AE (reverse charge), O (not subject to VAT)
      table.string('vat_category', 2).notNullable()
      // VAT rate in hundredths of a percent (1900 = 19 %)
      table.integer('vat_rate_bp').notNullable()
      table.unique(['invoice_id', 'position'])
    })
    this.schema.createTable('invoice_documents', (table) => {
      table.increments('id')
      table.integer('invoice_id').unsigned().notNullable().references('invoices.id')
      // xml (CII) | pdf (Factur-X / ZUGFeRD EN 16931, PDF/A-3 with the XML attached)
      table.string('kind', 8).notNullable()
      table.binary('content').notNullable()
      table.string('sha256', 64).notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.unique(['invoice_id', 'kind'])
    })
  }

  async down() {
    this.schema.dropTable('invoice_documents')
    this.schema.dropTable('invoice_lines')
    this.schema.dropTable('invoices')
    this.schema.dropTable('invoice_runs')
    this.schema.dropTable('invoice_number_sequences')
    this.schema.alterTable('companies', (table) => {
      table.dropColumn('buyer_reference')
    })
  }
}
