import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import CompanyService from '#accounts/services/company_service'
import PasswordService from '#accounts/services/password_service'
import { signupValidator } from '#accounts/validators/signup_validator'
import { EU_COUNTRIES } from '#accounts/vat_id'

@inject()
export default class SignupController {
  constructor(
    protected companies: CompanyService,
    protected passwords: PasswordService
  ) {}

  async create({ view }: HttpContext) {
    return view.render('pages/auth/signup', { countries: EU_COUNTRIES })
  }

  /** The same answer whether or not the address had an account: the mail tells the rest. */
  async store({ request, response, session, i18n }: HttpContext) {
    const data = await request.validateUsing(signupValidator)
    await this.companies.signUp(data, request.ip(), i18n.locale)
    session.flash('notice', i18n.t('ui.signup.check_mail'))
    return response.redirect().toRoute('session.create')
  }

  /** The mailed link confirms the new owner's address and logs them in. */
  async confirm({ params, request, response, session, auth, i18n }: HttpContext) {
    const owner = await this.passwords.confirmSignup(params.token, request.ip())
    if (!owner) {
      session.flash('error', i18n.t('ui.password.link_invalid'))
      return response.redirect().toRoute('session.create')
    }
    await auth.use('web').login(owner)
    return response.redirect().toRoute('customer.dashboard')
  }
}
