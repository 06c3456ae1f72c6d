import { DateTime } from 'luxon'
import { BaseModel, afterDelete, afterSave, column, hasMany } from '@adonisjs/lucid/orm'
import { lookupRowChanged } from '#core/caching/lookup_changes'
import type { HasMany } from '@adonisjs/lucid/types/relations'
import User from '#accounts/models/user'

export const COMPANY_STATUSES = ['pending', 'active', 'suspended', 'terminated'] as const
export type CompanyStatus = (typeof COMPANY_STATUSES)[number]
export const DATA_RESIDENCIES = ['eu_only', 'any_with_safeguards'] as const
export type DataResidency = (typeof DATA_RESIDENCIES)[number]
/**
 * The itemised list (Einzelverbindungsnachweis, TDDDG § 11): full destination numbers, without
 * their last three digits, or none at all. Call lists show full numbers only with `full`.
 */
export const ITEMISED_NUMBERS = ['full', 'shortened', 'none'] as const
export type ItemisedNumbers = (typeof ITEMISED_NUMBERS)[number]

export default class Company extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare legalName: string

  @column()
  declare legalForm: string

  @column()
  declare vatId: string | null

  @column()
  declare registerEntry: string | null

  /** BT-10 Buyer reference on invoices, e.g. a public buyer's Leitweg-ID (billing, 0610). */
  @column()
  declare buyerReference: string | null

  /** Where invoices are addressed electronically (BT-49 unless a Leitweg-ID) and reminders go. */
  @column()
  declare invoiceEmail: string | null

  @column()
  declare country: string

  @column()
  declare billingStreet: string

  @column()
  declare billingPostalCode: string

  @column()
  declare billingCity: string

  @column()
  declare billingCountry: string

  @column()
  declare privacyContactName: string

  @column()
  declare privacyContactEmail: string

  @column()
  declare status: CompanyStatus

  @column()
  declare dataResidency: DataResidency

  @column()
  declare region: string

  @column()
  declare itemisedNumbers: ItemisedNumbers

  /**
   * TDDDG § 11(1): `full` numbers need the subscriber's declaration in text form that co-users are
   * informed; who gave it (an owner), when, and the words confirmed. Null unless `full`.
   */
  @column()
  declare fullNumbersDeclaredBy: number | null

  @column.dateTime()
  declare fullNumbersDeclaredAt: DateTime | null

  @column()
  declare fullNumbersDeclaration: string | null

  /**
   * "Encrypted only": the company's SIP phones must register and call over TLS (emergency calls
   * never refused for it, § 164 TKG). On for companies that sign up; off for those from before.
   */
  @column({ consume: Boolean })
  declare encryptedOnly: boolean

  /** IANA time zone: daily limits reset at its midnight, fraud baselines count its hours (Europe/Berlin by default). */
  @column()
  declare timeZone: string

  @column.dateTime()
  declare approvedAt: DateTime | null

  @column.dateTime()
  declare terminatedAt: DateTime | null

  /** Account end: when the personal data of the terminated company was deleted (privacy). */
  @column.dateTime()
  declare accountDataDeletedAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @hasMany(() => User)
  declare users: HasMany<typeof User>

  /**
   * The name as people write it: the legal name, followed by the legal form only when the name does
   * not end with it already ("Demo GmbH" with form "GmbH" stays "Demo GmbH").
   */
  get displayName() {
    const name = this.legalName.trim()
    const form = (this.legalForm ?? '').trim()
    if (!form) return name
    const normalise = (text: string) =>
      text
        .toLowerCase()
        .replace(/[\s.]+/g, ' ')
        .trim()
    return ` ${normalise(name)}`.endsWith(` ${normalise(form)}`) ? name : `${name} ${form}`
  }

  get isActive() {
    return this.status === 'active'
  }

  /** Calls keep this row between calls (#core/caching/lookup_changes): every change drops it. */
  @afterSave()
  static lookupSaved(row: Company) {
    lookupRowChanged(row)
  }

  @afterDelete()
  static lookupDeleted(row: Company) {
    lookupRowChanged(row)
  }
}
