import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import RoleService from '#accounts/services/role_service'

/** Superadmin: the role-permission matrix. */
@inject()
export default class RolesController {
  constructor(protected roles: RoleService) {}

  async index({ view, bouncer }: HttpContext) {
    await bouncer.with('RolePolicy').authorize('manage')
    const { roles, permissions } = await this.roles.matrix()
    const granted = new Set(
      roles.flatMap((role) => role.permissions.map((p) => `${role.name}:${p.name}`))
    )
    return view.render('pages/admin/roles', { roles, permissions, granted })
  }

  /** The form posts `grants[<role>][]=<permission>` for every ticked box. */
  async update({ request, response, bouncer, auth, session, i18n }: HttpContext) {
    await bouncer.with('RolePolicy').authorize('manage')
    const raw = request.input('grants', {})
    const grants: Record<string, string[]> = {}
    if (raw && typeof raw === 'object') {
      for (const [role, names] of Object.entries(raw)) {
        grants[role] = (Array.isArray(names) ? names : [names]).filter(
          (n): n is string => typeof n === 'string'
        )
      }
    }
    await this.roles.updateMatrix(grants, auth.getUserOrFail(), request.ip())
    session.flash('notice', i18n.t('ui.admin.roles_saved'))
    return response.redirect().toRoute('admin.roles.index')
  }
}
