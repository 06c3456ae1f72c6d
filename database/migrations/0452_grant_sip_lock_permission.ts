import { BaseSchema } from '@adonisjs/lucid/schema'
import { applyGrants } from '#database/support/apply_grants'

/**
 * sip.locks.lift (staff: see and lift brute-force locks of SIP logins), with the default roles
 * that have it in app/accounts/permissions.ts. A snapshot on purpose, like 0310: this migration
 * must do the same thing whenever it runs, whatever the catalogue says later.
 */
export const ADDED_GRANTS = [
  { permission: 'sip.locks.lift', scope: 'staff', roles: ['superadmin', 'support'] },
] as const

/** Runs once (the migrator records it): a grant an admin removes afterwards stays removed. */
export default class extends BaseSchema {
  async up() {
    this.defer((db) => applyGrants(db, ADDED_GRANTS))
  }

  /** Grants are data admins may have changed since; rolling the schema back leaves them alone. */
  async down() {}
}
