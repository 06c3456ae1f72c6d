import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import Company from '#accounts/models/company'
import type { PermissionName } from '#accounts/permissions'
import CompanyRoleService from '#accounts/services/company_role_service'
import DashboardPanels from '#core/services/dashboard_panels'

@inject()
export default class DashboardController {
  constructor(
    protected roles: CompanyRoleService,
    protected panels: DashboardPanels
  ) {}

  async customer({ view, auth, bouncer }: HttpContext) {
    const user = auth.getUserOrFail()
    const location = await user.emergencyLocation()
    const ownershipOffer = await this.roles.openOffer(user)
    // Other modules' panels (last calls, call costs), each for what this person may see
    const panels = await this.panels.renderForCustomer({
      userId: user.id,
      companyId: user.companyId!,
      can: (permission) => bouncer.allows('permission', permission as PermissionName),
    })
    return view.render('pages/customer/dashboard', { user, location, ownershipOffer, panels })
  }

  async admin({ view }: HttpContext) {
    const pending = await Company.query().where('status', 'pending').count('* as total').first()
    return view.render('pages/admin/dashboard', {
      pendingCompanies: Number(pending?.$extras.total ?? 0),
      panels: await this.panels.render(),
    })
  }
}
