import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import CompanyService from '#accounts/services/company_service'
import { signupValidator } from '#accounts/validators/signup_validator'
import { EU_COUNTRIES } from '#accounts/vat_id'

@inject()
export default class SignupController {
  constructor(protected companies: CompanyService) {}

  async create({ view }: HttpContext) {
    return view.render('pages/auth/signup', { countries: EU_COUNTRIES })
  }

  async store({ request, response, auth, i18n }: HttpContext) {
    const data = await request.validateUsing(signupValidator)
    const { owner } = await this.companies.signUp(data, request.ip(), i18n.locale)
    await auth.use('web').login(owner)
    return response.redirect().toRoute('customer.dashboard')
  }
}
