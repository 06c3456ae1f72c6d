import mail from '@adonisjs/mail/services/main'
import type { Job } from '#core/queue/types'

export interface AccountEndMail {
  to: string
  locale: string
  invoices: number
  invoicesUntil: string | null
  callsUntil: string | null
}

/** Tells an owner that the account data is deleted, and what is kept, why and until when. */
export default class AccountEndMailJob implements Job<AccountEndMail> {
  readonly name = 'privacy.account_end_mail'

  async handle(payload: AccountEndMail) {
    await mail.send((message) => {
      message
        .to(payload.to)
        .subject('Ihr FluffyCall-Konto ist beendet / Your FluffyCall account has ended')
        .htmlView('emails/account_end', payload)
    })
  }
}
