import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import PasswordService from '#accounts/services/password_service'
import {
  forgotPasswordValidator,
  resetPasswordValidator,
} from '#accounts/validators/auth_validators'

@inject()
export default class PasswordResetController {
  constructor(protected passwords: PasswordService) {}

  async create({ view }: HttpContext) {
    return view.render('pages/auth/forgot_password')
  }

  async store({ request, response, session, i18n }: HttpContext) {
    const { email } = await request.validateUsing(forgotPasswordValidator)
    await this.passwords.requestReset(email, request.ip(), i18n.locale)
    session.flash('notice', i18n.t('ui.password.reset_sent'))
    return response.redirect().toRoute('session.create')
  }

  async edit({ params, view, response, session, i18n }: HttpContext) {
    if (!(await this.passwords.findUsableToken(params.token))) {
      session.flash('error', i18n.t('ui.password.link_invalid'))
      return response.redirect().toRoute('password.forgot')
    }
    return view.render('pages/auth/reset_password', { token: params.token })
  }

  async update({ request, response, session, i18n }: HttpContext) {
    const { token, password } = await request.validateUsing(resetPasswordValidator)
    const user = await this.passwords.reset(token, password, request.ip())
    if (!user) {
      session.flash('error', i18n.t('ui.password.link_invalid'))
      return response.redirect().toRoute('password.forgot')
    }
    session.flash('notice', i18n.t('ui.password.reset_done'))
    return response.redirect().toRoute('session.create')
  }
}
