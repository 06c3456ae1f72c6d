import { DateTime } from 'luxon'
import i18nManager from '@adonisjs/i18n/services/main'
import mail from '@adonisjs/mail/services/main'
import type { Logger } from '@adonisjs/core/logger'
import AlertEvent from '#core/alerts/alert_event'
import type Alert from '#core/alerts/alert'
import { postWebhook } from '#core/alerts/webhook'
import { WEBHOOK_RETRY_MINUTES, type AlertSettings } from '#core/alerts/settings'
import type { AlertDirectory, AlertRecipient } from '#core/alerts/types'
import type { Job } from '#core/queue/types'

export interface AlertDeliveryPayload {
  eventId: number
}

/**
 * Delivers one alert event: a mail to staff (and to the company's owners and admins when the alert
 * asks for it), each in their language, and the signed webhook. Safe to run again: what was
 * delivered is recorded on the event and not sent twice; a failed webhook is retried on the
 * schedule of WEBHOOK_RETRY_MINUTES by AlertRedeliveryJob, then given up and shown as failed.
 */
export default class AlertDeliveryJob implements Job<AlertDeliveryPayload> {
  readonly name = 'core.alert_delivery'

  constructor(
    private directory: AlertDirectory,
    private settings: AlertSettings,
    private logger: Logger,
    private clock: () => DateTime = () => DateTime.utc()
  ) {}

  async handle({ eventId }: AlertDeliveryPayload) {
    const event = await AlertEvent.query().where('id', eventId).preload('alert').first()
    if (!event) return
    if (!event.mailedAt) await this.#mail(event)
    if (event.webhookStatus === 'pending') await this.#webhook(event)
  }

  async #mail(event: AlertEvent) {
    const alert = event.alert
    const recipients = new Map<string, AlertRecipient & { staff: boolean }>()
    for (const address of this.settings.mailTo)
      recipients.set(address.toLowerCase(), {
        email: address,
        locale: i18nManager.defaultLocale,
        staff: true,
      })
    for (const person of await this.directory.staff())
      recipients.set(person.email.toLowerCase(), { ...person, staff: true })
    if (alert.companyId !== null && alert.notifyCompany) {
      for (const person of await this.directory.companyAdmins(alert.companyId)) {
        if (!recipients.has(person.email.toLowerCase()))
          recipients.set(person.email.toLowerCase(), { ...person, staff: false })
      }
    }
    for (const recipient of recipients.values()) {
      const words = alertWords(recipient.locale, alert, event)
      await mail.send((message) => {
        message
          .to(recipient.email)
          .subject(words.subject)
          .htmlView('emails/alert', {
            locale: words.locale,
            greeting: words.greeting,
            lines: [words.headline, words.when],
            facts: words.facts,
            factsIntro: words.factsIntro,
            link: recipient.staff
              ? `${this.settings.appUrl}/admin/alerts/${alert.id}`
              : `${this.settings.appUrl}/app`,
            linkText: words.linkText,
            signature: words.signature,
          })
      })
    }
    event.mailedAt = this.clock()
    await event.save()
  }

  async #webhook(event: AlertEvent) {
    const { webhookUrl, webhookSecret } = this.settings
    if (!webhookUrl || !webhookSecret) {
      event.merge({ webhookStatus: 'none', webhookNextAttemptAt: null })
      await event.save()
      return
    }
    const alert = event.alert
    const result = await postWebhook(webhookUrl, webhookSecret, webhookPayload(alert, event), {
      now: () => this.clock().toMillis(),
    })
    const attempts = event.webhookAttempts + 1
    if (result.ok) {
      event.merge({
        webhookStatus: 'delivered',
        webhookAttempts: attempts,
        webhookNextAttemptAt: null,
        webhookError: null,
      })
    } else {
      const wait = WEBHOOK_RETRY_MINUTES[attempts - 1]
      event.merge({
        webhookStatus: wait === undefined ? 'failed' : 'pending',
        webhookAttempts: attempts,
        webhookNextAttemptAt: wait === undefined ? null : this.clock().plus({ minutes: wait }),
        webhookError: result.error ?? 'error',
      })
      this.logger.warn(
        { alertEvent: event.id, attempts, error: result.error },
        'alert webhook not delivered'
      )
    }
    await event.save()
  }
}

/** The webhook's JSON: stable field names, documented in the README. */
export function webhookPayload(alert: Alert, event: AlertEvent) {
  return {
    id: event.id,
    event: event.event,
    alert: {
      id: alert.id,
      key: alert.key,
      kind: alert.kind,
      severity: event.severity,
      status: event.event === 'cleared' ? 'cleared' : 'open',
      companyId: alert.companyId,
      raisedAt: alert.raisedAt.toISO(),
    },
    facts: event.facts,
    at: event.at.toISO(),
  }
}

/** Title and figures of an alert in one language (mails and admin pages). */
export function alertWords(
  locale: string,
  alert: Pick<Alert, 'kind' | 'facts'>,
  event?: Pick<AlertEvent, 'event' | 'severity' | 'at'>
) {
  const i18n = i18nManager.locale(
    i18nManager.getSupportedLocaleFor(locale) ?? i18nManager.defaultLocale
  )
  const title = alertTitle(i18n, alert)
  const facts = Object.entries(alert.facts).map(([name, value]) => ({
    label: i18n.hasMessage(`alerts.facts.${name}`) ? i18n.t(`alerts.facts.${name}`) : name,
    value: factValue(i18n.locale, value),
  }))
  const severity = event ? i18n.t(`alerts.severity.${event.severity}`) : ''
  const subject =
    event?.event === 'cleared'
      ? i18n.t('alerts.mail.subject_cleared', { title })
      : i18n.t('alerts.mail.subject', { severity, title })
  return {
    locale: i18n.locale,
    title,
    facts,
    subject,
    greeting: i18n.t('mail.greeting'),
    headline: event ? i18n.t(`alerts.mail.${event.event}`, { title, severity }) : title,
    when: event
      ? i18n.t('alerts.mail.when', {
          at: event.at
            .setZone('Europe/Berlin')
            .setLocale(i18n.locale)
            .toLocaleString(DateTime.DATETIME_MED),
        })
      : '',
    factsIntro: i18n.t('alerts.mail.facts'),
    linkText: i18n.t('alerts.mail.link'),
    signature: i18n.t('mail.signature'),
  }
}

export function alertTitle(
  i18n: { hasMessage(key: string): boolean; t(key: string, data?: Record<string, any>): string },
  alert: Pick<Alert, 'kind' | 'facts'>
) {
  const key = `alerts.kinds.${alert.kind}`
  if (!i18n.hasMessage(key)) return alert.kind
  const facts = alert.facts as Record<string, any>
  return i18n.t(key, { ...facts, subject: subjectName(i18n, alert.kind, facts.subject) })
}

/**
 * Where a subject is a name of ours (a TOM check's key, a job's name), the words for it: "Verbindungsdaten
 * nach 6 Monaten gelöscht" instead of "cdr_retention". Carriers, nodes and the like stay as they are.
 */
const SUBJECT_NAMES: Record<string, string> = {
  ops_tom_check_failed: 'transparency.tom_checks.names',
  ops_retention_job_missed: 'alerts.retention_jobs',
}

export function subjectName(
  i18n: { hasMessage(key: string): boolean; t(key: string): string },
  kind: string,
  subject: unknown
) {
  const names = SUBJECT_NAMES[kind]
  if (typeof subject !== 'string' || !names) return subject
  // Job names carry dots ("calls.call_data_retention"): flattened to one key segment
  const key = `${names}.${subject.replaceAll('.', '_')}`
  return i18n.hasMessage(key) ? i18n.t(key) : subject
}

function factValue(locale: string, value: string | number | boolean | null) {
  if (typeof value === 'number') return new Intl.NumberFormat(locale).format(value)
  if (typeof value === 'boolean') return value ? '✓' : '–'
  return value ?? '–'
}
