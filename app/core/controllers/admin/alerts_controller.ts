import { DateTime } from 'luxon'
import type { HttpContext } from '@adonisjs/core/http'
import app from '@adonisjs/core/services/app'
import Alert from '#core/alerts/alert'
import { alertTitle, subjectName } from '#core/alerts/alert_delivery_job'
import { formatDateTime } from '#core/formatting'
import type { RuleVerdict } from '#core/monitoring/monitoring'
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
      rules: await ruleRows(i18n),
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

/** The operations alert rules in words, with what they judge now (config/alert_rules.ts). */
async function ruleRows(i18n: HttpContext['i18n']) {
  const monitoring = await app.container.make('monitoring')
  const verdicts = await monitoring.verdicts()
  const format = (value: number) => new Intl.NumberFormat(i18n.locale).format(value)
  return monitoring.ruleList.map((rule) => {
    const comparison = rule.above !== undefined ? 'above' : 'below'
    const limit =
      rule.unit === 'flag'
        ? ''
        : i18n.t(`alerts.rule_list.units.${rule.unit}`, {
            value: format((rule.above ?? rule.below)!),
          })
    const mine = verdicts.filter((verdict) => verdict.rule.name === rule.name)
    const name = (verdict: RuleVerdict) =>
      String(subjectName(i18n, `ops_${rule.name}`, verdict.subject) ?? '')
    const named = (key: string, found: RuleVerdict[], facts: Record<string, string> = {}) => {
      const subjects = found.map(name).filter((subject) => subject !== '')
      return subjects.length
        ? i18n.t(`alerts.rule_list.${key}_of`, { ...facts, subjects: subjects.join(', ') })
        : i18n.t(`alerts.rule_list.${key}`, facts)
    }
    const beyond = mine.filter((verdict) => verdict.failing && !verdict.stale)
    const unobserved = mine.filter((verdict) => verdict.stale && verdict.reading.error === null)
    const erring = mine.filter((verdict) => verdict.stale && verdict.reading.error !== null)
    const since = unobserved
      .map((verdict) => verdict.reading.observedAt)
      .reduce<DateTime | null>((oldest, at) => (oldest && oldest < at ? oldest : at), null)
    const states = [
      beyond.length ? named('failing', beyond) : '',
      erring.length ? named('check_error', erring) : '',
      unobserved.length
        ? named('unobserved', unobserved, { at: formatDateTime(since, i18n.locale) })
        : '',
    ].filter((state) => state !== '')
    return {
      name: rule.name,
      description: i18n.t(`alerts.rule_list.rules.${rule.name}`),
      severity: rule.severity,
      threshold:
        rule.unit === 'flag'
          ? i18n.t('alerts.rule_list.when_flag')
          : i18n.t(`alerts.rule_list.comparison.${comparison}`, { limit }),
      raiseAfter: i18n.t('alerts.rule_list.seconds', { count: format(rule.forSeconds) }),
      clearAfter: i18n.t('alerts.rule_list.seconds', { count: format(rule.clearAfterSeconds) }),
      now: states.length
        ? states.join('; ')
        : i18n.t(mine.length ? 'alerts.rule_list.all_passing' : 'alerts.rule_list.no_readings'),
      failing: states.length > 0,
    }
  })
}
