import db from '@adonisjs/lucid/services/db'
import {
  COMPANY_ROLES,
  DEFAULT_ROLE_PERMISSIONS,
  PERMISSIONS,
  STAFF_ROLES,
  type PermissionName,
} from '#accounts/permissions'

/**
 * Installs the permission catalogue and the default roles. Safe to run again: it adds what is
 * missing and leaves grants that admins changed alone (a role's grants are seeded only when the
 * role is created).
 */
export async function installRbacDefaults() {
  await db.transaction(async (trx) => {
    for (const [name, scope] of Object.entries(PERMISSIONS)) {
      const existing = await trx.from('permissions').where('name', name).first()
      if (!existing) await trx.table('permissions').insert({ name, scope })
    }
    const permissionIds = new Map<string, number>(
      (await trx.from('permissions').select('id', 'name')).map((row) => [row.name, row.id])
    )
    const roles = [
      ...STAFF_ROLES.map((name) => ({ name, scope: 'staff' })),
      ...COMPANY_ROLES.map((name) => ({ name, scope: 'company' })),
    ]
    for (const role of roles) {
      if (await trx.from('roles').where('name', role.name).first()) continue
      const [inserted] = await trx.table('roles').insert(role).returning('id')
      const roleId = typeof inserted === 'object' ? inserted.id : inserted
      const grants = DEFAULT_ROLE_PERMISSIONS[role.name as keyof typeof DEFAULT_ROLE_PERMISSIONS]
      if (grants.length) {
        await trx.table('role_permissions').multiInsert(
          grants.map((permission: PermissionName) => ({
            role_id: roleId,
            permission_id: permissionIds.get(permission),
          }))
        )
      }
    }
  })
}
