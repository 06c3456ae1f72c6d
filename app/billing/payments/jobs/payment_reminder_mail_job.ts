import i18nManager from '@adonisjs/i18n/services/main'
import mail from '@adonisjs/mail/services/main'
import Company from '#accounts/models/company'
import User from '#accounts/models/user'
import PaymentPayable from '#billing/payments/models/payment_payable'
import { formatEuro } from '#billing/payments/money'
import type { Job } from '#core/queue/types'
import { formatDate } from '#core/formatting'
import { appUrl } from '#config/app'

export interface PaymentReminderMailPayload {
  payableId: number
  /** 1 for the first reminder, 2 for the second ... */
  level: number
}

/**
 * A payment reminder to the company's owners and admins, each in their own language, and to the
 * company's invoice e-mail address (in German) unless that is one of theirs: invoice number,
 * amount and due date, and where to pay or change the payment details.
 */
export default class PaymentReminderMailJob implements Job<PaymentReminderMailPayload> {
  readonly name = 'billing.payment_reminder_mail'

  async handle({ payableId, level }: PaymentReminderMailPayload) {
    const payable = await PaymentPayable.find(payableId)
    if (!payable || payable.status === 'paid') return
    const users = await User.query()
      .where('company_id', payable.companyId)
      .whereNull('disabled_at')
      .whereHas('role', (role) => role.whereIn('name', ['owner', 'admin']))
    const recipients: Array<{ email: string; locale: string | null }> = users.map((user) => ({
      email: user.email,
      locale: user.locale,
    }))
    const invoiceEmail = (await Company.find(payable.companyId))?.invoiceEmail
    if (
      invoiceEmail &&
      !recipients.some((entry) => entry.email.toLowerCase() === invoiceEmail.toLowerCase())
    )
      recipients.push({ email: invoiceEmail, locale: null })
    for (const user of recipients) {
      const i18n = i18nManager.locale(
        (user.locale && i18nManager.getSupportedLocaleFor(user.locale)) || i18nManager.defaultLocale
      )
      const values = {
        invoice: payable.invoiceNumber,
        amount: formatEuro(payable.grossCents, i18n.locale),
        due: formatDate(payable.dueOn, i18n.locale),
        level,
      }
      await mail.send((message) => {
        message
          .to(user.email)
          .subject(i18n.t('payments.reminder.subject', values))
          .htmlView('emails/company_status', {
            locale: i18n.locale,
            greeting: i18n.t('mail.greeting'),
            lines: [i18n.t('payments.reminder.text', values), i18n.t('payments.reminder.next')],
            link: `${appUrl}/app/billing/payment`,
            linkText: i18n.t('payments.reminder.link'),
            signature: i18n.t('mail.signature'),
          })
      })
    }
  }
}
