import app from '@adonisjs/core/services/app'
import PasswordService from '#accounts/services/password_service'
import type { Job } from '#core/queue/types'

export interface PasswordResetMail {
  email: string
  ip: string
  locale: string
}

/**
 * Looks the address up and mails the link after the response, so the answer to the form costs the
 * same for every address and reveals nothing by its timing.
 */
export default class PasswordResetMailJob implements Job<PasswordResetMail> {
  readonly name = 'accounts.password_reset_mail'

  async handle({ email, ip, locale }: PasswordResetMail) {
    const passwords = await app.container.make(PasswordService)
    await passwords.sendResetLink(email, ip, locale)
  }
}
