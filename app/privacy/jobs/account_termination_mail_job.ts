import mail from '@adonisjs/mail/services/main'
import type { Job } from '#core/queue/types'

export interface AccountTerminationMail {
  to: string
  kind: 'requested' | 'withdrawn'
  companyName: string
  /** The last day of the contract (ISO date, German time). */
  lastDay: string
  readAccessUntil: string
  invoicesUntil: string
}

/** Tells every owner that the account was terminated (with the end date and what follows) or that the termination was withdrawn. */
export default class AccountTerminationMailJob implements Job<AccountTerminationMail> {
  readonly name = 'privacy.account_termination_mail'

  async handle(payload: AccountTerminationMail) {
    await mail.send((message) => {
      message
        .to(payload.to)
        .subject(
          payload.kind === 'requested'
            ? 'Kündigung Ihres FluffyCall-Kontos / Your FluffyCall account is terminated'
            : 'Kündigung zurückgenommen / Termination withdrawn'
        )
        .htmlView('emails/account_termination', payload)
    })
  }
}
