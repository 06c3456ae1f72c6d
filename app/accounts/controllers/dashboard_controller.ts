import type { HttpContext } from '@adonisjs/core/http'
import Company from '#accounts/models/company'

export default class DashboardController {
  async customer({ view, auth }: HttpContext) {
    const user = auth.getUserOrFail()
    const location = await user.emergencyLocation()
    return view.render('pages/customer/dashboard', { user, location })
  }

  async admin({ view }: HttpContext) {
    const pending = await Company.query().where('status', 'pending').count('* as total').first()
    return view.render('pages/admin/dashboard', { pendingCompanies: Number(pending?.$extras.total ?? 0) })
  }
}
