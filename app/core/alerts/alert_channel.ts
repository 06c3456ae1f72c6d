import { DateTime } from 'luxon'
import Alert from '#core/alerts/alert'
import AlertEvent from '#core/alerts/alert_event'
import type AlertDeliveryJob from '#core/alerts/alert_delivery_job'
import type { AlertSettings } from '#core/alerts/settings'
import type { AlertEventKind, AlertFacts, AlertSeverity, RaiseOptions } from '#core/alerts/types'
import type { JobQueue } from '#core/queue/types'

const RANK: Record<AlertSeverity, number> = { warning: 1, critical: 2 }

/**
 * The one alert channel (ARCHITECTURE.md): `raise(key, severity, facts)` while a condition holds,
 * `clear(key)` when it no longer does. Deduplicated per key: raising an open alert again only
 * updates its figures (no new mail), unless it escalates from warning to critical. An alert stays
 * at its highest severity until cleared. Each raise, escalation and clearing is an event delivered
 * through the job queue by mail and signed webhook (AlertDeliveryJob), or at once in this process
 * when the queue cannot take it.
 */
export default class AlertChannel {
  constructor(
    private queue: JobQueue,
    private delivery: AlertDeliveryJob,
    private settings: Pick<AlertSettings, 'webhookUrl'>,
    private clock: () => DateTime = () => DateTime.utc()
  ) {}

  async raise(
    key: string,
    severity: AlertSeverity,
    facts: AlertFacts,
    options: RaiseOptions = {}
  ): Promise<Alert> {
    if (!(severity in RANK)) throw new Error(`unknown alert severity '${severity}'`)
    const now = this.clock()
    const open = await this.open(key)
    if (!open) {
      const created = await this.#create(key, severity, facts, options, now)
      if (created) {
        await this.#event(created, 'raised', now)
        return created
      }
    }
    // Open already (or another node opened it a moment ago): update the figures
    const alert = open ?? (await this.open(key))
    if (!alert) throw new Error(`alert '${key}' could neither be opened nor found`)
    const escalated = RANK[severity] > RANK[alert.severity]
    alert.merge({
      facts,
      lastRaisedAt: now,
      raiseCount: alert.raiseCount + 1,
      severity: escalated ? severity : alert.severity,
    })
    await alert.save()
    if (escalated) await this.#event(alert, 'escalated', now)
    return alert
  }

  /** Clears the open alert of this key; false when none was open. */
  async clear(key: string, facts?: AlertFacts): Promise<boolean> {
    const alert = await this.open(key)
    if (!alert) return false
    const now = this.clock()
    alert.merge({ status: 'cleared', clearedAt: now, ...(facts ? { facts } : {}) })
    await alert.save()
    await this.#event(alert, 'cleared', now)
    return true
  }

  async open(key: string) {
    return Alert.query().where('key', key).where('status', 'open').first()
  }

  async #create(
    key: string,
    severity: AlertSeverity,
    facts: AlertFacts,
    options: RaiseOptions,
    now: DateTime
  ) {
    try {
      return await Alert.create({
        key,
        kind: options.kind ?? key.split(':')[0],
        severity,
        status: 'open',
        companyId: options.companyId ?? null,
        notifyCompany: options.notifyCompany ?? false,
        facts,
        raiseCount: 1,
        raisedAt: now,
        lastRaisedAt: now,
        clearedAt: null,
      })
    } catch (error) {
      // The partial unique index: another node opened this key between our read and write
      if (await this.open(key)) return null
      throw error
    }
  }

  async #event(alert: Alert, event: AlertEventKind, now: DateTime) {
    const pending = this.settings.webhookUrl !== null
    const row = await AlertEvent.create({
      alertId: alert.id,
      event,
      severity: alert.severity,
      facts: alert.facts,
      at: now,
      webhookStatus: pending ? 'pending' : 'none',
      webhookAttempts: 0,
      // The redelivery job leaves the first attempt to the delivery job for a minute
      webhookNextAttemptAt: pending ? now.plus({ minutes: 1 }) : null,
      webhookError: null,
      mailedAt: null,
    })
    try {
      await this.queue.dispatch(this.delivery, { eventId: row.id })
    } catch (error) {
      // The queue cannot take it (its Redis out of reach, which may be what this alert is
      // about): delivered here and now instead. The delivery is safe to run again.
      try {
        await this.delivery.handle({ eventId: row.id })
      } catch {
        throw error
      }
    }
  }
}
