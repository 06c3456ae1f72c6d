import { DateTime } from 'luxon'
import type { HttpContext } from '@adonisjs/core/http'
import app from '@adonisjs/core/services/app'
import Alert from '#core/alerts/alert'
import { alertTitle } from '#core/alerts/alert_delivery_job'
import { sqlTime } from '#core/sql_time'

const SEVERITY_ORDER = { critical: 0, warning: 1 } as const

/** Staff with `alerts.view`: the open alerts (critical first), the last 30 days' cleared ones, one alert's story. */
export default class AlertsController {
  async index({ view, bouncer, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'alerts.view')
    const open = await Alert.query()
      .where('status', 'open')
      .orderBy('last_raised_at', 'desc')
      .limit(500)
    open.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity])
    const cleared = await Alert.query()
      .where('status', 'cleared')
      .where('cleared_at', '>=', sqlTime(DateTime.utc().minus({ days: 30 })))
      .orderBy('cleared_at', 'desc')
      .limit(200)
    const names = await (
      await app.container.make('alerts.directory')
    ).companyNames(
      [...open, ...cleared]
        .map((alert) => alert.companyId)
        .filter((id): id is number => id !== null)
    )
    const row = (alert: Alert) => ({
      alert,
      title: alertTitle(i18n, alert),
      company: alert.companyId ? (names.get(alert.companyId) ?? null) : null,
    })
    return view.render('pages/admin/alerts/index', {
      open: open.map(row),
      cleared: cleared.map(row),
    })
  }

  async show({ view, bouncer, params, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'alerts.view')
    const alert = await Alert.query()
      .where('id', params.id)
      .preload('events', (events) => events.orderBy('id', 'asc'))
      .firstOrFail()
    const names = await (
      await app.container.make('alerts.directory')
    ).companyNames(alert.companyId ? [alert.companyId] : [])
    const facts = Object.entries(alert.facts).map(([name, value]) => ({
      label: i18n.hasMessage(`alerts.facts.${name}`) ? i18n.t(`alerts.facts.${name}`) : name,
      value:
        typeof value === 'number'
          ? new Intl.NumberFormat(i18n.locale).format(value)
          : typeof value === 'boolean'
            ? value
              ? '✓'
              : '–'
            : (value ?? '–'),
    }))
    return view.render('pages/admin/alerts/show', {
      alert,
      title: alertTitle(i18n, alert),
      company: alert.companyId ? (names.get(alert.companyId) ?? null) : null,
      facts,
    })
  }
}
