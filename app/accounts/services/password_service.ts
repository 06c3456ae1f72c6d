import { DateTime } from 'luxon'
import hash from '@adonisjs/core/services/hash'
import emitter from '@adonisjs/core/services/emitter'
import mail from '@adonisjs/mail/services/main'
import db from '@adonisjs/lucid/services/db'
import User from '#accounts/models/user'
import PasswordResetToken from '#accounts/models/password_reset_token'
import AuditLog from '#accounts/services/audit_log'
import { hashSecretToken, newSecretToken } from '#core/secret_token'
import { appUrl } from '#config/app'
import { sqlTime } from '#core/sql_time'
import counters from '#core/services/counters'
import queue from '#core/services/queue'
import { keyPart, withinLimits } from '#core/rate_limit'
import PasswordResetMailJob from '#accounts/jobs/password_reset_mail_job'
import CompanyStatusMailJob from '#accounts/jobs/company_status_mail_job'

const RESET_LINK_MINUTES = 60
/** Reset requests per hour that lead to a mail: per address (any IP) and per IP (any address). */
export const RESET_MAX_PER_ADDRESS = 3
export const RESET_MAX_PER_IP = 10
const HOUR = 60 * 60

export default class PasswordService {
  /**
   * Hands the request to the job queue, within the limits per address and per IP. Nothing here
   * depends on whether the address has an account, and the caller answers the same either way
   * (also when a limit is reached), so neither the answer nor its timing reveals accounts.
   */
  async requestReset(email: string, ip: string, locale: string) {
    const allowed = await withinLimits(counters, [
      {
        key: `password_reset:address:${keyPart(email)}`,
        max: RESET_MAX_PER_ADDRESS,
        windowSeconds: HOUR,
      },
      { key: `password_reset:ip:${ip}`, max: RESET_MAX_PER_IP, windowSeconds: HOUR },
    ])
    if (!allowed) return
    await queue.dispatch(new PasswordResetMailJob(), { email, ip, locale })
  }

  /** Mails a reset link when the address belongs to a user (run by the job queue). */
  async sendResetLink(email: string, ip: string, locale: string) {
    const user = await User.findBy('email', email)
    if (!user || user.disabledAt) return
    const link = await this.issueLink(user, { minutes: RESET_LINK_MINUTES })
    await mail.send((message) => {
      message
        .to(user.email)
        .subject(
          locale === 'en' ? 'Reset your FluffyCall password' : 'FluffyCall-Passwort zurücksetzen'
        )
        .htmlView('emails/password_reset', { user, link, minutes: RESET_LINK_MINUTES, locale })
    })
    await AuditLog.record({
      action: 'auth.password.reset_requested',
      actor: user,
      target: { type: 'user', id: user.id },
      ip,
    })
  }

  /**
   * A single-use link to choose a password; the database keeps only the token's hash. Only the
   * newest link works: issuing one spends the user's older ones.
   */
  async issueLink(user: User, validFor: { minutes?: number; hours?: number; days?: number }) {
    const { token, hash: tokenHash } = newSecretToken()
    await db.transaction(async (trx) => {
      await trx
        .from('password_reset_tokens')
        .where('user_id', user.id)
        .whereNull('used_at')
        .update({ used_at: sqlTime(DateTime.utc()) })
      await PasswordResetToken.create(
        { userId: user.id, tokenHash, expiresAt: DateTime.utc().plus(validFor) },
        { client: trx }
      )
    })
    return `${appUrl}/password/reset/${token}`
  }

  async findUsableToken(token: string) {
    const record = await PasswordResetToken.findBy('tokenHash', hashSecretToken(token))
    if (!record || record.usedAt || record.expiresAt < DateTime.utc()) return null
    return record
  }

  /** Sets the new password and spends the token (and every other open token of that user). */
  async reset(token: string, password: string, ip: string) {
    const record = await this.findUsableToken(token)
    if (!record) return null
    const user = await User.findOrFail(record.userId)
    await db.transaction(async (trx) => {
      user.useTransaction(trx)
      user.password = password
      user.passwordChangedAt = DateTime.utc()
      // The link came by mail: it proves the address as the sign-up confirmation would.
      user.awaitingConfirmation = false
      await user.save()
      await trx
        .from('password_reset_tokens')
        .where('user_id', user.id)
        .whereNull('used_at')
        .update({ used_at: sqlTime(DateTime.utc()) })
    })
    await AuditLog.record({
      action: 'auth.password.reset',
      actor: user,
      target: { type: 'user', id: user.id },
      ip,
    })
    await emitter.emit('user:password_changed', { userId: user.id })
    return user
  }

  /** Whether `password` is the user's current one (re-authentication before sensitive changes). */
  async verify(user: User, password: string) {
    return hash.verify(user.password, password)
  }

  /**
   * Confirms a signed-up owner's address with the mailed link (the token is spent); returns the
   * user, or null when the link is not usable or the user needs no confirmation.
   */
  async confirmSignup(token: string, ip: string) {
    const record = await this.findUsableToken(token)
    if (!record) return null
    const user = await User.findOrFail(record.userId)
    if (!user.awaitingConfirmation) return null
    await db.transaction(async (trx) => {
      user.useTransaction(trx)
      user.awaitingConfirmation = false
      await user.save()
      record.useTransaction(trx)
      record.usedAt = DateTime.utc()
      await record.save()
    })
    await AuditLog.record({
      action: 'auth.signup.confirmed',
      actor: user,
      target: { type: 'user', id: user.id },
      ip,
    })
    // The sign-up counts as received once a person has proved the address: then the owners hear of it.
    if (user.companyId)
      await queue.dispatch(new CompanyStatusMailJob(), {
        companyId: user.companyId,
        mail: 'received',
      })
    return user
  }

  async change(user: User, currentPassword: string, password: string, ip: string) {
    if (!(await this.verify(user, currentPassword))) return false
    user.password = password
    user.passwordChangedAt = DateTime.utc()
    await user.save()
    await AuditLog.record({
      action: 'auth.password.changed',
      actor: user,
      target: { type: 'user', id: user.id },
      ip,
    })
    await emitter.emit('user:password_changed', { userId: user.id })
    return true
  }
}
