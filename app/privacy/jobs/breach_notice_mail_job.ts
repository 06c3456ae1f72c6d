import mail from '@adonisjs/mail/services/main'
import type { Job } from '#core/queue/types'
import DataBreach from '#privacy/models/data_breach'

export interface BreachNoticeMail {
  breachId: number
  to: string
  companyName: string
}

/**
 * The notice to a customer company's owner (Art. 33(2) GDPR: the processor tells the controller
 * without undue delay) with the facts of Art. 33(3), from the one template.
 */
export default class BreachNoticeMailJob implements Job<BreachNoticeMail> {
  readonly name = 'privacy.breach_notice_mail'

  async handle({ breachId, to, companyName }: BreachNoticeMail) {
    const breach = await DataBreach.find(breachId)
    if (!breach) return
    await mail.send((message) => {
      message
        .to(to)
        .subject(
          'Verletzung des Schutzes personenbezogener Daten (Art. 33 DSGVO) / Personal data breach'
        )
        .htmlView('emails/breach_notice', { breach, companyName })
    })
  }
}
