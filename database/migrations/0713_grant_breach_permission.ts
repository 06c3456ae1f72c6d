import { BaseSchema } from '@adonisjs/lucid/schema'
import { applyGrants } from '#database/support/apply_grants'

/**
 * privacy.breaches.manage (staff: record personal-data breaches, notify the affected customers,
 * note the report to the authority), with the default roles that have it in
 * app/accounts/permissions.ts. A snapshot on purpose, like 0310.
 */
export const ADDED_GRANTS = [
  {
    permission: 'privacy.breaches.manage',
    scope: 'staff',
    roles: ['superadmin', 'privacy_officer'],
  },
] as const

/** Runs once (the migrator records it): a grant an admin removes afterwards stays removed. */
export default class extends BaseSchema {
  async up() {
    this.defer((db) => applyGrants(db, ADDED_GRANTS))
  }

  /** Grants are data admins may have changed since; rolling the schema back leaves them alone. */
  async down() {}
}
