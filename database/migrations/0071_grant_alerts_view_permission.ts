import { BaseSchema } from '@adonisjs/lucid/schema'
import { applyGrants } from '#database/support/apply_grants'

/**
 * alerts.view (staff: the alert channel's alerts in the admin area and by mail), with the default roles
 * that have it in app/accounts/permissions.ts. A snapshot on purpose, like 0310: this migration
 * must do the same thing whenever it runs, whatever the catalogue says later.
 */
export const ADDED_GRANTS = [
  { permission: 'alerts.view', scope: 'staff', roles: ['superadmin', 'support', 'fraud_analyst'] },
] as const

/** Runs once (the migrator records it): a grant an admin removes afterwards stays removed. */
export default class extends BaseSchema {
  async up() {
    this.defer((db) => applyGrants(db, ADDED_GRANTS))
  }

  /** Grants are data admins may have changed since; rolling the schema back leaves them alone. */
  async down() {}
}
