import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { sqlTime } from '#core/sql_time'
import type { CheckReading, MonitorCheck } from '#core/monitoring/types'
import type CarrierHealthService from '#calls/services/carrier_health_service'
import { FAILURE_CAUSES } from '#calls/services/call_figures_service'

/**
 * The calls module's checks for the operations alert rules (config/alert_rules.ts): carrier
 * health from this node's OPTIONS monitors, and failures and setup time from the CDRs of every
 * node. Figures only: carrier names, counts and times, never a number or a user.
 */

/** 1 while a carrier is down, 0 otherwise; observed at its last OPTIONS round. */
export class CarrierHealthCheck implements MonitorCheck {
  readonly name = 'carrier_health'

  constructor(
    private service: () => Promise<CarrierHealthService>,
    readonly intervalSeconds = 60
  ) {}

  async read(): Promise<CheckReading[]> {
    const service = await this.service()
    return Object.entries(service.all())
      .filter(([name]) => service.checkIntervalSeconds(name) !== null)
      .map(([name, health]) => ({
        subject: name,
        value: health.options === 'down' ? 1 : 0,
        // Checks switched off (or not yet run) report nothing to judge, and never go stale
        observedAt: health.checkedAt ?? undefined,
        intervalSeconds: service.checkIntervalSeconds(name) ?? undefined,
        facts: {
          carrier: name,
          state: health.options,
          failedRounds: health.consecutiveFailures ?? 0,
          lastStatus: health.lastStatus ?? null,
        },
      }))
  }
}

const WINDOW_MINUTES = 15

async function recentCalls(now: Date) {
  const since = DateTime.fromJSDate(now).minus({ minutes: WINDOW_MINUTES })
  return db
    .from('call_records')
    .where('started_at', '>=', sqlTime(since))
    .whereNotNull('ended_at')
    .whereNot('direction', 'echo_test')
    .select('started_at', 'answered_at', 'disconnect_cause') as Promise<
    Array<{ started_at: unknown; answered_at: unknown; disconnect_cause: string | null }>
  >
}

/** Percent of ended call attempts in the last 15 minutes that failed; judged from `minimum` on. */
export class CallOutcomesCheck implements MonitorCheck {
  readonly name = 'call_outcomes'

  constructor(
    readonly intervalSeconds = 60,
    private minimum = 10
  ) {}

  async read(now: Date): Promise<CheckReading[]> {
    const rows = await recentCalls(now)
    const failed = rows.filter(
      (row) => !row.answered_at && FAILURE_CAUSES.has(row.disconnect_cause as any)
    ).length
    const value = rows.length >= this.minimum ? (failed / rows.length) * 100 : null
    return [{ value, facts: { calls: rows.length, failed, withinMinutes: WINDOW_MINUTES } }]
  }
}

/** The 95th percentile (nearest rank) of the time to answer in the last 15 minutes, in ms. */
export class CallSetupTimeCheck implements MonitorCheck {
  readonly name = 'call_setup_time'

  constructor(readonly intervalSeconds = 60) {}

  async read(now: Date): Promise<CheckReading[]> {
    const setups = (await recentCalls(now))
      .filter((row) => row.answered_at)
      .map((row) => toDate(row.answered_at).getTime() - toDate(row.started_at).getTime())
      .sort((a, b) => a - b)
    const p95 = setups.length ? setups[Math.ceil(0.95 * setups.length) - 1] : null
    return [{ value: p95, facts: { answered: setups.length, withinMinutes: WINDOW_MINUTES } }]
  }
}

/** SQLite hands back strings (UTC, no zone), PostgreSQL Date objects. */
function toDate(value: unknown): Date {
  if (value instanceof Date) return value
  const text = String(value)
  const iso = DateTime.fromISO(text.replace(' ', 'T'), { zone: 'utc' })
  return (iso.isValid ? iso : DateTime.fromSQL(text, { zone: 'utc' })).toJSDate()
}
