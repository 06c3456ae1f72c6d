import i18nManager from '@adonisjs/i18n/services/main'
import mail from '@adonisjs/mail/services/main'
import Company from '#accounts/models/company'
import User from '#accounts/models/user'
import type { Job } from '#core/queue/types'
import { appUrl } from '#config/app'

/**
 * The moments of a company's review its owners hear about: sign-up received, approved
 * (pending → active) and rejected (pending → terminated).
 */
export const COMPANY_STATUS_MAILS = ['received', 'approved', 'rejected'] as const
export type CompanyStatusMail = (typeof COMPANY_STATUS_MAILS)[number]

export interface CompanyStatusMailPayload {
  companyId: number
  mail: CompanyStatusMail
}

/**
 * Mails the company's owners about its review, each in their own language. Subject and text are
 * fixed (nothing the sign-up form carried, not even names): anyone can sign up with someone else's
 * address, and our mail must not carry their words to that inbox.
 */
export default class CompanyStatusMailJob implements Job<CompanyStatusMailPayload> {
  readonly name = 'accounts.company_status_mail'

  async handle({ companyId, mail: kind }: CompanyStatusMailPayload) {
    const company = await Company.find(companyId)
    if (!company) return
    const owners = await User.query()
      .where('company_id', company.id)
      .whereNull('disabled_at')
      .whereHas('role', (role) => role.where('name', 'owner'))
    for (const owner of owners) {
      const i18n = i18nManager.locale(
        i18nManager.getSupportedLocaleFor(owner.locale) ?? i18nManager.defaultLocale
      )
      const t = (key: string) => i18n.t(`mail.company_status.${kind}.${key}`)
      await mail.send((message) => {
        message
          .to(owner.email)
          .subject(t('subject'))
          .htmlView('emails/company_status', {
            locale: i18n.locale,
            greeting: i18n.t('mail.greeting'),
            lines: [t('text'), t('next')],
            link: kind === 'rejected' ? null : `${appUrl}/app`,
            linkText: kind === 'rejected' ? null : t('link'),
            signature: i18n.t('mail.signature'),
          })
      })
    }
  }
}
