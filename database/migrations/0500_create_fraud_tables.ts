import { DateTime } from 'luxon'
import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Prefixes libphonenumber-js does not classify (or not strictly enough): high-risk toll-fraud
 * (IRSF) destinations and German special ranges. A snapshot on purpose; staff edit the table later.
 * E.164 digits without "+"; the longest matching prefix wins.
 */
export const SEEDED_RISK_PREFIXES: Array<{ prefix: string; riskClass: string; label: string }> = [
  { prefix: '881', riskClass: 'high_risk', label: 'Global Mobile Satellite System' },
  { prefix: '882', riskClass: 'high_risk', label: 'International networks' },
  { prefix: '883', riskClass: 'high_risk', label: 'International networks' },
  { prefix: '870', riskClass: 'high_risk', label: 'Inmarsat' },
  { prefix: '979', riskClass: 'premium_rate', label: 'International premium rate service' },
  { prefix: '232', riskClass: 'high_risk', label: 'Sierra Leone' },
  { prefix: '53', riskClass: 'high_risk', label: 'Cuba' },
  { prefix: '678', riskClass: 'high_risk', label: 'Vanuatu' },
  { prefix: '675', riskClass: 'high_risk', label: 'Papua New Guinea' },
  { prefix: '252', riskClass: 'high_risk', label: 'Somalia' },
  { prefix: '247', riskClass: 'high_risk', label: 'Ascension' },
  { prefix: '290', riskClass: 'high_risk', label: 'Saint Helena' },
  { prefix: '682', riskClass: 'high_risk', label: 'Cook Islands' },
  { prefix: '683', riskClass: 'high_risk', label: 'Niue' },
  { prefix: '686', riskClass: 'high_risk', label: 'Kiribati' },
  { prefix: '688', riskClass: 'high_risk', label: 'Tuvalu' },
  { prefix: '690', riskClass: 'high_risk', label: 'Tokelau' },
  { prefix: '49900', riskClass: 'premium_rate', label: 'Germany 0900 premium rate' },
  {
    prefix: '49137',
    riskClass: 'special_service',
    label: 'Germany 0137 mass traffic (televoting)',
  },
  { prefix: '49138', riskClass: 'special_service', label: 'Germany 0138 mass traffic' },
  { prefix: '49118', riskClass: 'special_service', label: 'Germany 118xx directory enquiries' },
  { prefix: '49180', riskClass: 'shared_cost', label: 'Germany 0180 service numbers' },
  { prefix: '49700', riskClass: 'personal_number', label: 'Germany 0700 personal numbers' },
]

export default class extends BaseSchema {
  async up() {
    // A company's destination permissions, risk-class enables, suspension and limit overrides.
    this.schema.createTable('fraud_company_policies', (table) => {
      table.increments('id')
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .references('companies.id')
        .onDelete('CASCADE')
        .unique()
      // JSON array of ISO 3166 alpha-2 codes
      table.text('allowed_countries').notNullable()
      // JSON array of risk classes (app/fraud/services/number_risk.ts)
      table.text('enabled_risk_classes').notNullable()
      // none | international_premium | all
      table.string('outbound_suspension', 24).notNullable().defaultTo('none')
      // JSON: the overrides of config/fraud.ts limits; missing fields take the defaults
      table.text('limits').notNullable().defaultTo('{}')
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })

    // A user's outbound suspension (the company's limits per user apply to everyone).
    this.schema.createTable('fraud_user_policies', (table) => {
      table.increments('id')
      table
        .integer('user_id')
        .unsigned()
        .notNullable()
        .references('users.id')
        .onDelete('CASCADE')
        .unique()
      table.string('outbound_suspension', 24).notNullable().defaultTo('none')
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })

    this.schema.createTable('fraud_risk_prefixes', (table) => {
      table.increments('id')
      table.string('prefix', 16).notNullable().unique()
      table.string('risk_class', 32).notNullable()
      table.string('label', 120).notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })

    // The concurrent-call leases of running calls, so the counters can be rebuilt (a crashed
    // node's leases go once its calls' CDRs are closed).
    this.schema.createTable('fraud_call_leases', (table) => {
      table.increments('id')
      table.string('call_uuid', 36).notNullable().unique()
      table
        .integer('company_id')
        .unsigned()
        .notNullable()
        .references('companies.id')
        .onDelete('CASCADE')
        .index()
      table.integer('user_id').unsigned().nullable().references('users.id').onDelete('CASCADE')
      // No foreign key: devices belong to calls; the lease goes with its call anyway.
      table.integer('sip_device_id').unsigned().nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
    })

    this.defer(async (db) => {
      const now = DateTime.utc().toFormat(db.dialect.dateTimeFormat)
      await db.table('fraud_risk_prefixes').multiInsert(
        SEEDED_RISK_PREFIXES.map((entry) => ({
          prefix: entry.prefix,
          risk_class: entry.riskClass,
          label: entry.label,
          created_at: now,
          updated_at: now,
        }))
      )
    })
  }

  async down() {
    this.schema.dropTable('fraud_call_leases')
    this.schema.dropTable('fraud_risk_prefixes')
    this.schema.dropTable('fraud_user_policies')
    this.schema.dropTable('fraud_company_policies')
  }
}
