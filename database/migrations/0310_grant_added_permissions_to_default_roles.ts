import { BaseSchema } from '@adonisjs/lucid/schema'

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
    this.defer(async (db) => {
      for (const grant of ADDED_GRANTS) {
        let permission = await db.from('permissions').where('name', grant.permission).first()
        const roles = await db.from('roles').whereIn('name', [...grant.roles]).select('id')
        if (!roles.length) continue
        if (!permission) {
          await db.table('permissions').insert({ name: grant.permission, scope: grant.scope })
          permission = await db.from('permissions').where('name', grant.permission).firstOrFail()
        }
        for (const role of roles) {
          const held = await db
            .from('role_permissions')
            .where('role_id', role.id)
            .where('permission_id', permission.id)
            .first()
          if (!held) await db.table('role_permissions').insert({ role_id: role.id, permission_id: permission.id })
        }
      }
    })
  }

  /** Grants are data admins may have changed since; rolling the schema back leaves them alone. */
  async down() {}
}
