import mail from '@adonisjs/mail/services/main'
import i18nManager from '@adonisjs/i18n/services/main'
import Role from '#accounts/models/role'
import User from '#accounts/models/user'
import type { Job } from '#core/queue/types'

export interface RoleChangedMail {
  companyId: number
  userId: number
  from: string
  to: string
}

/** Tells every active owner of the company about a role change (fixed subject, no typed text in it). */
export default class RoleChangedMailJob implements Job<RoleChangedMail> {
  readonly name = 'accounts.role_changed_mail'

  async handle({ companyId, userId, from, to }: RoleChangedMail) {
    const member = await User.find(userId)
    if (!member) return
    const owner = await Role.findByOrFail('name', 'owner')
    const owners = await User.query()
      .where('company_id', companyId)
      .where('role_id', owner.id)
      .whereNull('disabled_at')
    const labels = (locale: string) => ({
      from: i18nManager.locale(locale).t(`ui.roles.${from}`),
      to: i18nManager.locale(locale).t(`ui.roles.${to}`),
    })
    const roles = { de: labels('de'), en: labels('en') }
    for (const recipient of owners) {
      await mail.send((message) => {
        message
          .to(recipient.email)
          .subject('Rollenänderung bei FluffyCall / Role change at FluffyCall')
          .htmlView('emails/role_changed', { member, roles })
      })
    }
  }
}
