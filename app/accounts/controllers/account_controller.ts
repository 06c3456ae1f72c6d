import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import PasswordService from '#accounts/services/password_service'
import LoginService from '#accounts/services/login_service'
import TwoFactorService from '#accounts/services/two_factor_service'
import WebSessionService, { clientFacts } from '#accounts/services/web_session_service'
import type User from '#accounts/models/user'
import { describeUserAgent } from '#accounts/user_agent'
import {
  changePasswordValidator,
  disableTwoFactorValidator,
  emergencyLocationValidator,
  twoFactorChallengeValidator,
} from '#accounts/validators/auth_validators'

const SETUP_SECRET = 'two_factor_setup_secret'

/** The logged-in user's own security settings: password, two-factor authentication, sessions. */
@inject()
export default class AccountController {
  constructor(
    protected passwords: PasswordService,
    protected twoFactor: TwoFactorService,
    protected logins: LoginService,
    protected webSessions: WebSessionService
  ) {}

  async show({ view, auth, webSession }: HttpContext) {
    const user = auth.getUserOrFail()
    const sessions = (await this.webSessions.listFor(user)).map((row) => ({
      id: row.id,
      device: describeUserAgent(row.userAgent),
      ip: row.ip,
      lastUsedAt: row.lastUsedAt,
      current: row.id === webSession?.id,
    }))
    return view.render('pages/account/security', { user, sessions })
  }

  async revokeSession({ params, request, response, auth, session, i18n, webSession }: HttpContext) {
    const revoked = await this.webSessions.revoke(
      auth.getUserOrFail(),
      Number(params.id),
      webSession,
      request.ip()
    )
    session.flash(
      revoked ? 'notice' : 'error',
      i18n.t(revoked ? 'ui.sessions.revoked' : 'ui.sessions.not_found')
    )
    return response.redirect().toRoute('account.security')
  }

  async revokeOtherSessions({ request, response, auth, session, i18n, webSession }: HttpContext) {
    const count = await this.webSessions.revokeOthers(
      auth.getUserOrFail(),
      webSession,
      request.ip()
    )
    session.flash('notice', i18n.t('ui.sessions.revoked_others', { count }))
    return response.redirect().toRoute('account.security')
  }

  /**
   * After a password or 2FA change every session of the user is over (a stolen one too); this
   * browser continues on a new session id.
   */
  async #continueOnFreshSession({ auth, session, request }: HttpContext, user: User) {
    await auth.use('web').login(user)
    await this.webSessions.start(user, session.sessionId, clientFacts(request))
  }

  async changePassword(ctx: HttpContext) {
    const { request, response, auth, session, i18n } = ctx
    const user = auth.getUserOrFail()
    const { current_password: current, password } =
      await request.validateUsing(changePasswordValidator)
    if (!(await this.passwords.change(user, current, password, request.ip()))) {
      session.flashErrors({ current_password: i18n.t('ui.password.current_wrong') })
      return response.redirect().back()
    }
    // The user:password_changed listener ended every session of the user.
    await this.#continueOnFreshSession(ctx, user)
    session.flash('notice', i18n.t('ui.password.changed'))
    return response.redirect().toRoute('account.security')
  }

  async showTwoFactor({ view, auth, session }: HttpContext) {
    const user = auth.getUserOrFail()
    if (user.twoFactorEnabled)
      return view.render('pages/account/two_factor', { user, enabled: true })
    const sealed = session.get(SETUP_SECRET)
    const secret = sealed ? this.twoFactor.openSecret(sealed) : null
    const setup = secret
      ? { secret, uri: this.twoFactor.uriFor(user, secret) }
      : this.twoFactor.newSecret(user)
    const qrCode = await this.twoFactor.qrCodeFor(setup.uri)
    session.put(SETUP_SECRET, this.twoFactor.sealSecret(setup.secret))
    return view.render('pages/account/two_factor', { user, enabled: false, setup, qrCode })
  }

  async enableTwoFactor(ctx: HttpContext) {
    const { request, response, auth, session, view, i18n } = ctx
    const user = auth.getUserOrFail()
    const { code } = await request.validateUsing(twoFactorChallengeValidator)
    const sealed = session.get(SETUP_SECRET)
    const secret = sealed ? this.twoFactor.openSecret(sealed) : null
    const recoveryCodes = secret
      ? await this.twoFactor.enable(user, secret, code, request.ip())
      : null
    if (!recoveryCodes) {
      session.flashErrors({ code: i18n.t('ui.auth.invalid_code') })
      return response.redirect().back()
    }
    session.forget(SETUP_SECRET)
    await this.webSessions.endForUser(user.id, 'two_factor_changed')
    await this.#continueOnFreshSession(ctx, user)
    return view.render('pages/account/recovery_codes', { recoveryCodes })
  }

  async disableTwoFactor(ctx: HttpContext) {
    const { request, response, auth, session, i18n } = ctx
    const user = auth.getUserOrFail()
    if (user.isStaff) {
      session.flash('error', i18n.t('auth.staff_needs_2fa'))
      return response.redirect().toRoute('account.two_factor.show')
    }
    const { current_password: password, code } =
      await request.validateUsing(disableTwoFactorValidator)
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
    await this.webSessions.endForUser(user.id, 'two_factor_changed')
    await this.#continueOnFreshSession(ctx, user)
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
