import mail from '@adonisjs/mail/services/main'
import { appUrl } from '#config/app'
import type { Job } from '#core/queue/types'
import DataSubjectRequest, { REQUEST_ARTICLES } from '#privacy/models/data_subject_request'

export interface DataSubjectRequestMail {
  requestId: number
  event: 'received' | 'extended' | 'closed'
}

/** Tells the requester that their request arrived, was extended (with the reason) or was answered. */
export default class DataSubjectRequestMailJob implements Job<DataSubjectRequestMail> {
  readonly name = 'privacy.data_subject_request_mail'

  async handle({ requestId, event }: DataSubjectRequestMail) {
    const request = await DataSubjectRequest.find(requestId)
    if (!request) return
    await mail.send((message) => {
      message
        .to(request.subjectEmail)
        .subject(
          `Ihre Datenschutzanfrage (${REQUEST_ARTICLES[request.kind]} DSGVO) / Your privacy request`
        )
        .htmlView('emails/data_subject_request', {
          request,
          event,
          article: REQUEST_ARTICLES[request.kind],
          link: request.userId ? `${appUrl}/app/privacy` : null,
        })
    })
  }
}
