import { inject } from '@adonisjs/core'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { sqlTime } from '#core/sql_time'
import CarrierDirectory from '#calls/services/carrier_directory'
import CarrierHealthService from '#calls/services/carrier_health_service'
import type { DisconnectCause } from '#calls/models/call_record'

/** Causes that mean the call did not work (the caller cancelling, a missed call or our staff's decision are no failures). */
export const FAILURE_CAUSES: ReadonlySet<DisconnectCause> = new Set([
  'busy',
  'no_answer',
  'rejected',
  'unreachable',
  'refused',
  'failed',
  'media_timeout',
  'media_failed',
  'phone_disconnected',
  'system_shutdown',
  'crash_recovery',
  'no_capacity',
  'lost',
  'node_lost',
])

export interface HourFigures {
  /** Start of the hour, ISO in UTC; the page shows it in the viewer's zone. */
  hour: string
  label: string
  calls: number
  answered: number
  failed: number
  setupP95: number | null
}

export interface CallFigures {
  generatedAt: string
  callsNow: number
  totals: { calls: number; answered: number; failed: number }
  hours: HourFigures[]
  failuresByCause: Array<{ cause: DisconnectCause; count: number }>
  setup: { p50: number | null; p95: number | null; answered: number }
  carriers: Array<{
    name: string
    label: string
    options: 'up' | 'down' | 'unknown'
    registration: string
  }>
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], share: number) {
  if (!sorted.length) return null
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)]
}

/**
 * The admin dashboard's call figures over the last 24 hours, from the CDRs of every node (counts,
 * outcomes, setup time from attempt to answer in whole seconds as stored) and the carrier health
 * of this node. Aggregates only: no number, user or company leaves this service.
 */
@inject()
export default class CallFiguresService {
  constructor(
    protected directory: CarrierDirectory,
    protected health: CarrierHealthService
  ) {}

  async figures(now: DateTime = DateTime.utc(), zone = 'Europe/Berlin'): Promise<CallFigures> {
    const since = now.minus({ hours: 23 }).setZone(zone).startOf('hour')
    const rows: Array<{
      started_at: unknown
      answered_at: unknown
      disconnect_cause: DisconnectCause | null
      ended_at: unknown
    }> = await db
      .from('call_records')
      .where('started_at', '>=', sqlTime(since))
      .select('started_at', 'answered_at', 'ended_at', 'disconnect_cause')
    const open = await db
      .from('call_records')
      .whereNull('ended_at')
      .where('started_at', '>=', sqlTime(now.minus({ days: 1 })))
      .count('* as total')

    const hours = Array.from({ length: 24 }, (_, index) => {
      const start = since.plus({ hours: index })
      return { start, calls: 0, answered: 0, failed: 0, setups: [] as number[] }
    })
    const causes = new Map<DisconnectCause, number>()
    const setups: number[] = []
    for (const row of rows) {
      const started = toDateTime(row.started_at)
      const bucket = hours[Math.floor(started.diff(since, 'hours').hours)]
      if (!bucket) continue
      bucket.calls++
      if (row.answered_at) {
        const seconds = Math.max(0, toDateTime(row.answered_at).diff(started, 'seconds').seconds)
        bucket.answered++
        bucket.setups.push(seconds)
        setups.push(seconds)
      }
      if (row.disconnect_cause && FAILURE_CAUSES.has(row.disconnect_cause) && !row.answered_at) {
        bucket.failed++
        causes.set(row.disconnect_cause, (causes.get(row.disconnect_cause) ?? 0) + 1)
      }
    }
    setups.sort((a, b) => a - b)
    const watched = this.health.all()
    const carriers = (await this.directory.all())
      .filter((view) => view.active)
      .map((view) => ({
        name: view.entry.name,
        label: view.entry.label,
        options: watched[view.entry.name]?.options ?? ('unknown' as const),
        registration: watched[view.entry.name]?.registration ?? 'unknown',
      }))

    return {
      generatedAt: now.toISO()!,
      callsNow: Number(open[0]?.total ?? 0),
      totals: {
        calls: rows.length,
        answered: hours.reduce((sum, hour) => sum + hour.answered, 0),
        failed: hours.reduce((sum, hour) => sum + hour.failed, 0),
      },
      hours: hours.map((hour) => ({
        hour: hour.start.toUTC().toISO()!,
        label: hour.start.toFormat('HH:00'),
        calls: hour.calls,
        answered: hour.answered,
        failed: hour.failed,
        setupP95: percentile(
          hour.setups.sort((a, b) => a - b),
          0.95
        ),
      })),
      failuresByCause: [...causes]
        .map(([cause, count]) => ({ cause, count }))
        .sort((a, b) => b.count - a.count),
      setup: {
        p50: percentile(setups, 0.5),
        p95: percentile(setups, 0.95),
        answered: setups.length,
      },
      carriers,
    }
  }
}

/** SQLite hands back strings (UTC, no zone), PostgreSQL Date objects. */
function toDateTime(value: unknown) {
  if (value instanceof Date) return DateTime.fromJSDate(value, { zone: 'utc' })
  const text = String(value)
  const iso = DateTime.fromISO(text.replace(' ', 'T'), { zone: 'utc' })
  return iso.isValid ? iso : DateTime.fromSQL(text, { zone: 'utc' })
}
