import limiter from '@adonisjs/limiter/services/main'
import { errors as limiterErrors } from '@adonisjs/limiter'
import { errors as authErrors } from '@adonisjs/auth'
import User from '#accounts/models/user'
import Company from '#accounts/models/company'
import AuditLog from '#accounts/services/audit_log'

/** 5 failures per account and IP in 15 minutes lock that pair for 15 minutes. */
export const LOGIN_MAX_FAILURES = 5
const loginLimiter = () =>
  limiter.use({ requests: LOGIN_MAX_FAILURES, duration: '15 mins', blockDuration: '15 mins' })

class InvalidSecondFactor extends Error {}

export type LoginResult =
  | { kind: 'ok'; user: User }
  | { kind: 'invalid' }
  | { kind: 'ended' }
  | { kind: 'locked'; retryAfterSeconds: number }

export default class LoginService {
  static lockKey(scope: 'password' | '2fa', account: string, ip: string) {
    return `login:${scope}:${account}:${ip}`
  }

  /**
   * Verifies email and password under the per-account-and-IP limiter. Unknown emails cost the
   * same hashing time as known ones and count against the limiter alike.
   */
  async attempt(email: string, password: string, ip: string): Promise<LoginResult> {
    const key = LoginService.lockKey('password', email, ip)
    let outcome: Awaited<ReturnType<ReturnType<typeof loginLimiter>['penalize']>> | 'invalid'
    try {
      outcome = await loginLimiter().penalize(key, () => User.verifyCredentials(email, password))
    } catch (error) {
      if (!(error instanceof authErrors.E_INVALID_CREDENTIALS)) throw error
      outcome = 'invalid'
    }
    if (outcome !== 'invalid' && !outcome[0]) {
      const user = outcome[1] as User
      if (user.disabledAt) return { kind: 'invalid' }
      if (user.companyId !== null) {
        // Users of a suspended company still log in (limited, 110/112 stay possible); a terminated one is over.
        const company = await Company.find(user.companyId)
        if (!company || company.status === 'terminated') return { kind: 'ended' }
      }
      return { kind: 'ok', user }
    }
    const error = outcome === 'invalid' ? null : outcome[0]

    const known = await User.findBy('email', email)
    if (error instanceof limiterErrors.E_TOO_MANY_REQUESTS) {
      await AuditLog.record({
        action: 'auth.login.locked',
        actor: known,
        target: known ? { type: 'user', id: known.id } : undefined,
        details: known ? undefined : { email },
        ip,
      })
      return { kind: 'locked', retryAfterSeconds: error.response.availableIn }
    }
    await AuditLog.record({
      action: 'auth.login.failed',
      actor: known,
      target: known ? { type: 'user', id: known.id } : undefined,
      details: known ? undefined : { email },
      ip,
    })
    return { kind: 'invalid' }
  }

  /** The second step: a TOTP or recovery code, limited like the password step. */
  async attemptSecondFactor(user: User, verify: () => Promise<boolean>, ip: string): Promise<LoginResult> {
    const key = LoginService.lockKey('2fa', String(user.id), ip)
    try {
      const [error] = await loginLimiter().penalize(key, async () => {
        if (!(await verify())) throw new InvalidSecondFactor()
        return true
      })
      if (!error) return { kind: 'ok', user }
      return { kind: 'locked', retryAfterSeconds: error.response.availableIn }
    } catch (error) {
      if (error instanceof InvalidSecondFactor) return { kind: 'invalid' }
      throw error
    }
  }

  async recordSuccess(user: User, ip: string) {
    await AuditLog.record({ action: 'auth.login.succeeded', actor: user, target: { type: 'user', id: user.id }, ip })
  }
}
