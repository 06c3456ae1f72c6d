import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import { appUrl } from '#config/app'
import { hashSecretToken, newSecretToken } from '#core/secret_token'
import { sqlTime } from '#core/sql_time'
import queue from '#core/services/queue'
import EmailChangeToken from '#privacy/models/email_change_token'
import EmailChangeMailJob from '#privacy/jobs/email_change_mail_job'
import { EMAIL_CHANGE_LINK_HOURS } from '#privacy/personal_data'

/**
 * Rectification (Art. 16 GDPR) of a user's own name and e-mail address. A name changes at once; a
 * new address takes effect only when the link mailed to it is opened, so nobody can move an
 * account to an address they do not hold. The old address is told. The clock is injectable.
 */
export default class EmailChangeService {
  now: () => DateTime = () => DateTime.utc()

  async rename(user: User, fullName: string, ip: string | null) {
    if (fullName === user.fullName) return
    user.fullName = fullName
    await user.save()
    await AuditLog.record({
      action: 'privacy.rectification.name',
      actor: user,
      target: { type: 'user', id: user.id },
      ip,
    })
  }

  /** Mails a link to the new address; false when another account already uses it (said in words). */
  async requestChange(user: User, newEmail: string, ip: string | null) {
    const email = newEmail.trim().toLowerCase()
    if (email === user.email) return 'unchanged' as const
    if (await User.findBy('email', email)) return 'taken' as const
    const { token, hash } = newSecretToken()
    const now = this.now()
    await db.transaction(async (trx) => {
      // Only the newest link works
      await trx
        .from('email_change_tokens')
        .where('user_id', user.id)
        .whereNull('used_at')
        .update({ used_at: sqlTime(now) })
      await EmailChangeToken.create(
        {
          userId: user.id,
          newEmail: email,
          tokenHash: hash,
          expiresAt: now.plus({ hours: EMAIL_CHANGE_LINK_HOURS }),
          usedAt: null,
          createdAt: now,
        },
        { client: trx }
      )
    })
    await AuditLog.record({
      action: 'privacy.rectification.email_requested',
      actor: user,
      target: { type: 'user', id: user.id },
      ip,
    })
    await queue.dispatch(new EmailChangeMailJob(), {
      to: email,
      name: user.fullName,
      link: `${appUrl}/account/email/confirm/${token}`,
      locale: user.locale,
      kind: 'confirm',
    })
    return 'sent' as const
  }

  /** Pending change of the user, if any (shown on the page). */
  async pending(user: User) {
    return EmailChangeToken.query()
      .where('user_id', user.id)
      .whereNull('used_at')
      .where('expires_at', '>', sqlTime(this.now()))
      .first()
  }

  /** Applies the new address when the link is valid; returns the user, or null. */
  async confirm(token: string, ip: string | null) {
    const record = await EmailChangeToken.findBy('tokenHash', hashSecretToken(token))
    const now = this.now()
    if (!record || record.usedAt || record.expiresAt < now) return null
    const user = await User.find(record.userId)
    if (!user) return null
    if (await User.query().where('email', record.newEmail).whereNot('id', user.id).first())
      return null
    const oldEmail = user.email
    await db.transaction(async (trx) => {
      user.useTransaction(trx)
      user.email = record.newEmail
      await user.save()
      record.useTransaction(trx)
      record.usedAt = now
      await record.save()
    })
    await AuditLog.record({
      action: 'privacy.rectification.email_confirmed',
      actor: user,
      target: { type: 'user', id: user.id },
      ip,
    })
    await queue.dispatch(new EmailChangeMailJob(), {
      to: oldEmail,
      name: user.fullName,
      link: null,
      locale: user.locale,
      kind: 'notice',
    })
    return user
  }
}
