import mail from '@adonisjs/mail/services/main'
import type { Job } from '#core/queue/types'

export interface EmailChangeMail {
  to: string
  name: string
  link: string | null
  locale: string
  /** confirm: the link to the new address; notice: the old address hears of the change. */
  kind: 'confirm' | 'notice'
}

/** The confirmation link for a new e-mail address, and the notice to the old one. */
export default class EmailChangeMailJob implements Job<EmailChangeMail> {
  readonly name = 'privacy.email_change_mail'

  async handle(payload: EmailChangeMail) {
    await mail.send((message) => {
      message
        .to(payload.to)
        .subject(
          payload.kind === 'confirm'
            ? 'Neue E-Mail-Adresse bestätigen / Confirm your new e-mail address'
            : 'Ihre E-Mail-Adresse wurde geändert / Your e-mail address was changed'
        )
        .htmlView('emails/email_change', payload)
    })
  }
}
