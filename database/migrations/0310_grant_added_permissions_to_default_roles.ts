import { BaseSchema } from '@adonisjs/lucid/schema'
import { applyGrants } from '#database/support/apply_grants'

/**
 * Permissions added after the first release, with the default roles that have them in
 * app/accounts/permissions.ts. A snapshot on purpose: this migration must do the same thing
 * whenever it runs, whatever the catalogue says later.
 */
export const ADDED_GRANTS = [
  { permission: 'calls.history.company', scope: 'company', roles: ['owner', 'admin'] },
  { permission: 'numbers.assign', scope: 'company', roles: ['owner', 'admin'] },
] as const

/**
 * The seeder grants a role its defaults only when it creates the role, so the default roles of
 * an existing database would never get these. This runs once (the migrator records it): a grant
 * an admin removes afterwards stays removed. A fresh database has no roles yet; the seeder that
 * creates them grants the current defaults.
 */
export default class extends BaseSchema {
  async up() {
    this.defer((db) => applyGrants(db, ADDED_GRANTS))
  }

  /** Grants are data admins may have changed since; rolling the schema back leaves them alone. */
  async down() {}
}
