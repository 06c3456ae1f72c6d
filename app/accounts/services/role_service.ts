import db from '@adonisjs/lucid/services/db'
import Role from '#accounts/models/role'
import Permission from '#accounts/models/permission'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import type { CompanyRoleName, StaffRoleName } from '#accounts/permissions'

export default class RoleService {
  static async findByName(name: StaffRoleName | CompanyRoleName) {
    return Role.findByOrFail('name', name)
  }

  /** Gives a user another role of the same scope; audited with the company the user belongs to. */
  async assign(member: User, roleName: StaffRoleName | CompanyRoleName, actor: User, ip: string) {
    const role = await RoleService.findByName(roleName)
    if (role.scope !== (member.isStaff ? 'staff' : 'company'))
      throw new Error(`role ${roleName} does not fit user ${member.id}`)
    const before = member.roleId
    member.roleId = role.id
    await member.save()
    await AuditLog.record({
      action: 'user.role.changed',
      actor,
      companyId: member.companyId,
      target: { type: 'user', id: member.id },
      details: { fromRoleId: before, to: roleName },
      ip,
    })
  }

  /** The whole matrix: roles with the names of their permissions. */
  async matrix() {
    const roles = await Role.query().preload('permissions').orderBy('scope', 'desc').orderBy('id')
    const permissions = await Permission.query().orderBy('scope', 'desc').orderBy('name')
    return { roles, permissions }
  }

  /** What the editor's own role always keeps, so that nobody locks themselves out of the matrix. */
  static readonly SELF_LOCKOUT_GUARD = ['admin.access', 'roles.manage']

  /**
   * Replaces the permissions of every role at once. A permission may only go to roles of its own
   * scope (staff permissions never to customer roles). The editor's own role keeps the rights to
   * come back here. Each role whose set changed is audited.
   */
  async updateMatrix(grants: Record<string, string[]>, actor: User, ip: string) {
    const { roles, permissions } = await this.matrix()
    const byName = new Map(permissions.map((permission) => [permission.name, permission]))

    await db.transaction(async (trx) => {
      for (const role of roles) {
        const wanted = (grants[role.name] ?? []).filter(
          (name) => byName.get(name)?.scope === role.scope
        )
        if (role.id === actor.roleId) wanted.push(...RoleService.SELF_LOCKOUT_GUARD)
        const before = role.permissions.map((permission) => permission.name).sort()
        const after = [...new Set(wanted)].sort()
        if (before.join() === after.join()) continue

        role.useTransaction(trx)
        await role.related('permissions').sync(after.map((name) => byName.get(name)!.id))
        await AuditLog.record(
          {
            action: 'role.permissions.changed',
            actor,
            companyId: null,
            target: { type: 'role', id: role.name },
            details: {
              added: after.filter((name) => !before.includes(name)),
              removed: before.filter((name) => !after.includes(name)),
            },
            ip,
          },
          { client: trx }
        )
      }
    })
  }
}
