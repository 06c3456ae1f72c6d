import mail from '@adonisjs/mail/services/main'
import db from '@adonisjs/lucid/services/db'
import { appUrl } from '#config/app'
import type { Job } from '#core/queue/types'
import DataSubjectRequest, { REQUEST_ARTICLES } from '#privacy/models/data_subject_request'

export interface CompanyPrivacyRequestMail {
  requestId: number
}

/**
 * Tells the owners and admins of the user's company that the user asked for erasure or objected:
 * the company is the controller of its users' account and call data and decides with FluffyCall.
 * The mail names the right and links to the user's privacy page, not the user's reasons.
 */
export default class CompanyPrivacyRequestMailJob implements Job<CompanyPrivacyRequestMail> {
  readonly name = 'privacy.company_privacy_request_mail'

  async handle({ requestId }: CompanyPrivacyRequestMail) {
    const request = await DataSubjectRequest.find(requestId)
    if (!request || !request.companyId || !request.userId) return
    const recipients = await db
      .from('users')
      .join('roles', 'roles.id', 'users.role_id')
      .where('users.company_id', request.companyId)
      .whereIn('roles.name', ['owner', 'admin'])
      .whereNull('users.disabled_at')
      .whereNot('users.id', request.userId)
      .select('users.email')
    const link = `${appUrl}/app/privacy/users/${request.userId}`
    for (const recipient of recipients)
      await mail.send((message) => {
        message
          .to(recipient.email)
          .subject("Datenschutzantrag eines Benutzers / A user's privacy request")
          .htmlView('emails/company_privacy_request', {
            request,
            article: REQUEST_ARTICLES[request.kind],
            link,
          })
      })
  }
}
