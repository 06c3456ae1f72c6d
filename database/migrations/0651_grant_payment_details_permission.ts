import { BaseSchema } from '@adonisjs/lucid/schema'

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
