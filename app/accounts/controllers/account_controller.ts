import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import PasswordService from '#accounts/services/password_service'
import LoginService from '#accounts/services/login_service'
import TwoFactorService from '#accounts/services/two_factor_service'
import {
  changePasswordValidator,
  disableTwoFactorValidator,
  emergencyLocationValidator,
  twoFactorChallengeValidator,
} from '#accounts/validators/auth_validators'

const SETUP_SECRET = 'two_factor_setup_secret'

/** The logged-in user's own security settings: password and two-factor authentication. */
@inject()
export default class AccountController {
  constructor(
    protected passwords: PasswordService,
    protected twoFactor: TwoFactorService,
    protected logins: LoginService
  ) {}

  async show({ view, auth }: HttpContext) {
    return view.render('pages/account/security', { user: auth.getUserOrFail() })
  }

  async changePassword({ request, response, auth, session, i18n }: HttpContext) {
    const user = auth.getUserOrFail()
    const { current_password: current, password } = await request.validateUsing(changePasswordValidator)
    if (!(await this.passwords.change(user, current, password, request.ip()))) {
      session.flashErrors({ current_password: i18n.t('ui.password.current_wrong') })
      return response.redirect().back()
    }
    session.flash('notice', i18n.t('ui.password.changed'))
    return response.redirect().toRoute('account.security')
  }

  async showTwoFactor({ view, auth, session }: HttpContext) {
    const user = auth.getUserOrFail()
    if (user.twoFactorEnabled) return view.render('pages/account/two_factor', { user, enabled: true })
    const sealed = session.get(SETUP_SECRET)
    const secret = sealed ? this.twoFactor.openSecret(sealed) : null
    const setup = secret ? { secret, uri: this.twoFactor.uriFor(user, secret) } : this.twoFactor.newSecret(user)
    const qrCode = await this.twoFactor.qrCodeFor(setup.uri)
    session.put(SETUP_SECRET, this.twoFactor.sealSecret(setup.secret))
    return view.render('pages/account/two_factor', { user, enabled: false, setup, qrCode })
  }

  async enableTwoFactor({ request, response, auth, session, view, i18n }: HttpContext) {
    const user = auth.getUserOrFail()
    const { code } = await request.validateUsing(twoFactorChallengeValidator)
    const sealed = session.get(SETUP_SECRET)
    const secret = sealed ? this.twoFactor.openSecret(sealed) : null
    const recoveryCodes = secret ? await this.twoFactor.enable(user, secret, code, request.ip()) : null
    if (!recoveryCodes) {
      session.flashErrors({ code: i18n.t('ui.auth.invalid_code') })
      return response.redirect().back()
    }
    session.forget(SETUP_SECRET)
    return view.render('pages/account/recovery_codes', { recoveryCodes })
  }

  async disableTwoFactor({ request, response, auth, session, i18n }: HttpContext) {
    const user = auth.getUserOrFail()
    if (user.isStaff) {
      session.flash('error', i18n.t('auth.staff_needs_2fa'))
      return response.redirect().toRoute('account.two_factor.show')
    }
    const { current_password: password, code } = await request.validateUsing(disableTwoFactorValidator)
    const result = await this.logins.reauthenticate(
      user,
      async () =>
        (password !== undefined && (await this.passwords.verify(user, password))) ||
        (code !== undefined && (await this.twoFactor.verifyLogin(user, code, request.ip()))),
      request.ip()
    )
    if (result.kind !== 'ok') {
      const message =
        result.kind === 'locked'
          ? i18n.t('ui.auth.locked', { minutes: Math.ceil(result.retryAfterSeconds / 60) })
          : i18n.t('ui.two_factor.disable_proof_wrong')
      session.flashErrors({ current_password: message })
      return response.redirect().toRoute('account.two_factor.show')
    }
    await this.twoFactor.disable(user, request.ip())
    session.flash('notice', i18n.t('ui.two_factor.disabled'))
    return response.redirect().toRoute('account.security')
  }

  /** Where emergency services are sent for this user's 110/112 calls. */
  async updateEmergencyLocation({ request, response, auth, session, i18n }: HttpContext) {
    const user = auth.getUserOrFail()
    const data = await request.validateUsing(emergencyLocationValidator)
    user.merge({
      emergencyStreet: data.emergency_street ?? null,
      emergencyPostalCode: data.emergency_street ? data.emergency_postal_code! : null,
      emergencyCity: data.emergency_street ? data.emergency_city! : null,
      emergencyCountry: data.emergency_street ? data.emergency_country! : null,
    })
    await user.save()
    session.flash('notice', i18n.t('ui.customer.emergency_saved'))
    return response.redirect().toRoute('customer.dashboard')
  }
}
