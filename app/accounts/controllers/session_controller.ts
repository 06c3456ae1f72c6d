import { inject } from '@adonisjs/core'
import emitter from '@adonisjs/core/services/emitter'
import type { HttpContext } from '@adonisjs/core/http'
import User from '#accounts/models/user'
import LoginService, { KNOWN_DEVICE_COOKIE } from '#accounts/services/login_service'
import { keyPart } from '#core/rate_limit'
import TwoFactorService from '#accounts/services/two_factor_service'
import AuditLog from '#accounts/services/audit_log'
import WebSessionService, { clientFacts } from '#accounts/services/web_session_service'
import { loginValidator, twoFactorChallengeValidator } from '#accounts/validators/auth_validators'

const PENDING_2FA = 'pending_2fa_user_id'
const KNOWN_DEVICE_ACCOUNTS = 5

/** The accounts (as key parts of their emails) that logged in on this browser before. */
function knownAccounts(request: HttpContext['request']): string[] {
  const value = request.encryptedCookie(KNOWN_DEVICE_COOKIE)
  return Array.isArray(value)
    ? value.filter((entry): entry is string => typeof entry === 'string')
    : []
}

function isKnownDevice(request: HttpContext['request'], email: string) {
  return knownAccounts(request).includes(keyPart(email))
}

/** Remembers after a complete login that this browser belongs to the account (for the lockout exemption). */
function rememberDevice({ request, response }: HttpContext, email: string) {
  const accounts = [
    keyPart(email),
    ...knownAccounts(request).filter((entry) => entry !== keyPart(email)),
  ]
  response.encryptedCookie(KNOWN_DEVICE_COOKIE, accounts.slice(0, KNOWN_DEVICE_ACCOUNTS), {
    maxAge: '180d',
    httpOnly: true,
    sameSite: 'lax',
  })
}

@inject()
export default class SessionController {
  constructor(
    protected logins: LoginService,
    protected twoFactor: TwoFactorService,
    protected webSessions: WebSessionService
  ) {}

  /** Logs the user in on a fresh session id (auth regenerates it) and registers that session. */
  async #logIn(ctx: HttpContext, user: User) {
    const { auth, session, request } = ctx
    await auth.use('web').login(user)
    await this.webSessions.start(user, session.sessionId, clientFacts(request))
    rememberDevice(ctx, user.email)
    await this.logins.recordSuccess(user, request.ip())
  }

  async create({ view }: HttpContext) {
    return view.render('pages/auth/login')
  }

  async store(ctx: HttpContext) {
    const { request, response, session, i18n } = ctx
    const { email, password } = await request.validateUsing(loginValidator)
    const result = await this.logins.attempt(
      email,
      password,
      request.ip(),
      isKnownDevice(request, email)
    )

    if (result.kind === 'locked') {
      session.flashExcept(['password'])
      session.flashErrors({
        email: i18n.t('ui.auth.locked', { minutes: Math.ceil(result.retryAfterSeconds / 60) }),
      })
      return response.redirect().back()
    }
    if (result.kind === 'invalid' || result.kind === 'ended') {
      session.flashExcept(['password'])
      session.flashErrors({
        email: i18n.t(
          result.kind === 'ended' ? 'ui.auth.account_ended' : 'ui.auth.invalid_credentials'
        ),
      })
      return response.redirect().back()
    }

    if (result.user.twoFactorEnabled) {
      session.put(PENDING_2FA, result.user.id)
      return response.redirect().toRoute('session.two_factor.show')
    }
    await this.#logIn(ctx, result.user)
    return response
      .redirect()
      .toRoute(result.user.isStaff ? 'admin.dashboard' : 'customer.dashboard')
  }

  async showTwoFactor({ view, session, response }: HttpContext) {
    if (!session.get(PENDING_2FA)) return response.redirect().toRoute('session.create')
    return view.render('pages/auth/two_factor_challenge')
  }

  async verifyTwoFactor(ctx: HttpContext) {
    const { request, response, session, i18n } = ctx
    const pendingId = session.get(PENDING_2FA)
    const user = pendingId ? await User.find(pendingId) : null
    if (!user) return response.redirect().toRoute('session.create')

    const { code } = await request.validateUsing(twoFactorChallengeValidator)
    const ip = request.ip()
    const result = await this.logins.attemptSecondFactor(
      user,
      () => this.twoFactor.verifyLogin(user, code, ip),
      ip,
      isKnownDevice(request, user.email)
    )
    if (result.kind !== 'ok') {
      const message =
        result.kind === 'locked'
          ? i18n.t('ui.auth.locked', { minutes: Math.ceil(result.retryAfterSeconds / 60) })
          : i18n.t('ui.auth.invalid_code')
      session.flashErrors({ code: message })
      return response.redirect().back()
    }
    session.forget(PENDING_2FA)
    await this.#logIn(ctx, user)
    return response.redirect().toRoute(user.isStaff ? 'admin.dashboard' : 'customer.dashboard')
  }

  async destroy({ auth, request, response, session }: HttpContext) {
    const user = auth.user
    const sessionId = session.sessionId
    await auth.use('web').logout()
    // The old id is destroyed in the store when the response commits the session.
    session.regenerate()
    if (user) {
      await AuditLog.record({
        action: 'auth.logout',
        actor: user,
        target: { type: 'user', id: user.id },
        ip: request.ip(),
      })
      if (!(await this.webSessions.endCurrent(sessionId))) {
        await emitter.emit('user:logged_out', { userId: user.id, sessionId })
      }
    }
    return response.redirect().toRoute('session.create')
  }
}
