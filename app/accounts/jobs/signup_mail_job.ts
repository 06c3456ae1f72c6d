import app from '@adonisjs/core/services/app'
import mail from '@adonisjs/mail/services/main'
import User from '#accounts/models/user'
import PasswordService from '#accounts/services/password_service'
import type { Job } from '#core/queue/types'
import { appUrl } from '#config/app'

export interface SignupMail {
  email: string
}

export const SIGNUP_CONFIRM_HOURS = 24

/**
 * After a sign-up: the new owner gets the link that confirms the address; the holder of an address
 * that already had an account gets a note without one. Fixed subject, nothing typed in it.
 */
export default class SignupMailJob implements Job<SignupMail> {
  readonly name = 'accounts.signup_mail'

  async handle({ email }: SignupMail) {
    const user = await User.findBy('email', email)
    if (!user) return
    const subject = 'Ihre Registrierung bei FluffyCall / Your FluffyCall sign-up'
    if (!user.awaitingConfirmation) {
      await mail.send((message) => {
        message
          .to(email)
          .subject(subject)
          .htmlView('emails/signup_existing_account', {
            loginUrl: `${appUrl}/login`,
            resetUrl: `${appUrl}/password/forgot`,
          })
      })
      return
    }
    const passwords = await app.container.make(PasswordService)
    const link = (await passwords.issueLink(user, { hours: SIGNUP_CONFIRM_HOURS })).replace(
      '/password/reset/',
      '/signup/confirm/'
    )
    await mail.send((message) => {
      message
        .to(email)
        .subject(subject)
        .htmlView('emails/signup_confirm', { user, link, hours: SIGNUP_CONFIRM_HOURS })
    })
  }
}
