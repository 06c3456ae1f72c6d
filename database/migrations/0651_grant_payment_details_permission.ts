import { BaseSchema } from '@adonisjs/lucid/schema'
import { applyGrants } from '#database/support/apply_grants'

/**
 * billing.payment.manage (a company's owner and admins: its payment details, the SEPA mandate or
 * bank transfer), with the default roles that have it in app/accounts/permissions.ts. A snapshot
 * on purpose, like 0310: this migration does the same thing whenever it runs.
 */
export const ADDED_GRANTS = [
  { permission: 'billing.payment.manage', scope: 'company', roles: ['owner', 'admin'] },
] as const

/** Runs once (the migrator records it): a grant an admin removes afterwards stays removed. */
export default class extends BaseSchema {
  async up() {
    this.defer((db) => applyGrants(db, ADDED_GRANTS))
  }

  /** Grants are data admins may have changed since; rolling the schema back leaves them alone. */
  async down() {}
}
