import type { QueryClientContract } from '@adonisjs/lucid/types/database'

export interface AddedGrant {
  readonly permission: string
  readonly scope: 'staff' | 'company'
  readonly roles: readonly string[]
}

/**
 * What every "grant an added permission" migration does: creates the permission when missing and
 * grants it to those of the named default roles that exist and lack it. The seeder grants a role
 * its defaults only when it creates the role, so without this the roles of an existing database
 * would never get a permission added later. A fresh database has no roles yet (nothing to do;
 * the seeder that creates them grants the current defaults). The migrator runs each migration
 * once, so a grant an admin removes afterwards stays removed.
 */
export async function applyGrants(db: QueryClientContract, grants: readonly AddedGrant[]) {
  for (const grant of grants) {
    let permission = await db.from('permissions').where('name', grant.permission).first()
    const roles = await db
      .from('roles')
      .whereIn('name', [...grant.roles])
      .select('id')
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
      if (!held)
        await db
          .table('role_permissions')
          .insert({ role_id: role.id, permission_id: permission.id })
    }
  }
}
