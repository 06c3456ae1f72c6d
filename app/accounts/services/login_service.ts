import User from '#accounts/models/user'
import Company from '#accounts/models/company'
import { keepsReadAccess } from '#accounts/ended_account'
import AuditLog from '#accounts/services/audit_log'
import LoginThrottle from '#accounts/services/login_throttle'
import { loginMetrics } from '#accounts/metrics/login_metrics'

/**
 * 5 failures per account (from any IP) or 20 per IP (for any accounts) in 15 minutes lock that
 * account or IP for 15 minutes; the password step and the 2FA step count apart.
 */
export const LOGIN_MAX_FAILURES = 5
export const LOGIN_MAX_FAILURES_PER_IP = 20
/** Encrypted cookie naming the accounts that logged in on this device (exempt from their account's lock). */
export const KNOWN_DEVICE_COOKIE = 'known_device'

const passwordThrottle = new LoginThrottle(
  'password',
  LOGIN_MAX_FAILURES,
  LOGIN_MAX_FAILURES_PER_IP
)
const secondFactorThrottle = new LoginThrottle('2fa', LOGIN_MAX_FAILURES, LOGIN_MAX_FAILURES_PER_IP)

export type LoginResult =
  | { kind: 'ok'; user: User }
  | { kind: 'invalid' }
  | { kind: 'ended' }
  | { kind: 'locked'; retryAfterSeconds: number }

export default class LoginService {
  /**
   * Verifies email and password under the per-account and per-IP locks. Unknown emails cost the
   * same hashing time as known ones and count alike. `knownDevice`: this browser logged into this
   * account before.
   */
  async attempt(
    email: string,
    password: string,
    ip: string,
    knownDevice = false
  ): Promise<LoginResult> {
    const lock = await passwordThrottle.lockFor(email, ip, knownDevice)
    if (lock) {
      loginMetrics.locked('password', lock.by)
      const known = await User.findBy('email', email)
      await AuditLog.record({
        action: 'auth.login.locked',
        actor: known,
        target: known ? { type: 'user', id: known.id } : undefined,
        details: known ? { by: lock.by } : { by: lock.by, email },
        ip,
      })
      return { kind: 'locked', retryAfterSeconds: lock.retryAfterSeconds }
    }

    let user: User | null = null
    try {
      user = await User.verifyCredentials(email, password)
    } catch {
      user = null
    }
    if (user) {
      await passwordThrottle.succeeded(email, ip)
      // Not yet confirmed: answered like a wrong password, so sign-up plus login reveals nothing either.
      if (user.disabledAt || user.awaitingConfirmation) return { kind: 'invalid' }
      if (user.companyId !== null) {
        // Users of a suspended company still log in (limited, 110/112 stay possible); a terminated one
        // is over, except for its owners' read access to invoices and the export until the data goes.
        const company = await Company.find(user.companyId)
        if (!company) return { kind: 'ended' }
        if (company.status === 'terminated' && !(await keepsReadAccess(user, company)))
          return { kind: 'ended' }
      }
      return { kind: 'ok', user }
    }

    await passwordThrottle.failed(email, ip)
    loginMetrics.failed('password')
    const known = await User.findBy('email', email)
    await AuditLog.record({
      action: 'auth.login.failed',
      actor: known,
      target: known ? { type: 'user', id: known.id } : undefined,
      details: known ? undefined : { email },
      ip,
    })
    return { kind: 'invalid' }
  }

  /** The second step: a TOTP or recovery code, under the same per-account and per-IP locks; locks are audited. */
  async attemptSecondFactor(
    user: User,
    verify: () => Promise<boolean>,
    ip: string,
    knownDevice = false
  ): Promise<LoginResult> {
    const lock = await secondFactorThrottle.lockFor(user.email, ip, knownDevice)
    if (lock) {
      loginMetrics.locked('2fa', lock.by)
      await AuditLog.record({
        action: 'auth.2fa.locked',
        actor: user,
        target: { type: 'user', id: user.id },
        details: { by: lock.by },
        ip,
      })
      return { kind: 'locked', retryAfterSeconds: lock.retryAfterSeconds }
    }
    if (await verify()) {
      await secondFactorThrottle.succeeded(user.email, ip)
      return { kind: 'ok', user }
    }
    await secondFactorThrottle.failed(user.email, ip)
    loginMetrics.failed('2fa')
    return { kind: 'invalid' }
  }

  /**
   * A logged-in user proves themselves again (before turning 2FA off) with the password or a
   * current code, under the second step's locks. No known-device exemption: whoever holds the
   * session may hold the device cookie too.
   */
  async reauthenticate(user: User, proof: () => Promise<boolean>, ip: string) {
    return this.attemptSecondFactor(user, proof, ip, false)
  }

  async recordSuccess(user: User, ip: string) {
    await AuditLog.record({
      action: 'auth.login.succeeded',
      actor: user,
      target: { type: 'user', id: user.id },
      ip,
    })
  }
}
