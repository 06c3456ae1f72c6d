import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { CounterStore } from '#core/counters/types'
import { sqlTime } from '#core/sql_time'
import LocalDays from '#fraud/services/local_days'

/** Spend so far in 1/10,000 cent: today and this month in the company's time zone. */
export interface Spend {
  day: number
  month: number
}

export interface RunningCall {
  companyId: number
  userId: number
  /** 1/10,000 cent per minute. */
  pricePerMinuteMicro: number
  startedAt: number
}

/**
 * Month-to-date and today's cost per company and per user, on the shared counters of app/core (the
 * gate reads them without a query), added from billing's rated CDRs (billing:call_rated) and
 * rebuilt from the CDRs at start where a counter is missing. Calls running on this node add their
 * accrued cost (price per minute × time since admission) so a cap counts them too.
 */
export default class SpendCounters {
  #days = new LocalDays()
  #running = new Map<string, RunningCall>()

  constructor(
    private counters: CounterStore,
    private now: () => number = Date.now
  ) {}

  keys(subject: string, timeZone: string, at: number) {
    const day = this.#days.of(timeZone, at)
    return { day: `spend:d:${subject}:${day}`, month: `spend:m:${subject}:${day.slice(0, 7)}` }
  }

  /** A rated call's cost counts for its company and user on the day (and month) it started. */
  async add(
    call: { companyId: number; userId: number | null; costMicro: number; startedAt: number },
    timeZone: string
  ) {
    const subjects = [
      `company:${call.companyId}`,
      ...(call.userId !== null ? [`user:${call.userId}`] : []),
    ]
    // The four counters in one step (one round trip in Redis instead of four per rated call,
    // issue 17); a take without checks or leases always takes.
    await this.counters.take({
      counts: subjects.flatMap((subject) => {
        const keys = this.keys(subject, timeZone, call.startedAt)
        return [
          { key: keys.day, windowSeconds: 2 * 86_400, by: call.costMicro },
          { key: keys.month, windowSeconds: 40 * 86_400, by: call.costMicro },
        ]
      }),
    })
  }

  async spent(subject: string, timeZone: string, at = this.now()): Promise<Spend> {
    const keys = this.keys(subject, timeZone, at)
    const [day, month] = await Promise.all([
      this.counters.get(keys.day),
      this.counters.get(keys.month),
    ])
    return { day, month }
  }

  /** A call admitted at a known price: its cost accrues until it ends. */
  running(callUuid: string, call: Omit<RunningCall, 'startedAt'>) {
    this.#running.set(callUuid, { ...call, startedAt: this.now() })
  }

  ended(callUuid: string) {
    this.#running.delete(callUuid)
  }

  /** Forgets the running calls (tests, whose rolled-back ids come again). */
  forgetAll() {
    this.#running.clear()
  }

  /**
   * What the company's calls running on this node have cost so far (rounded up to the micro); with
   * `userId`, only that user's calls.
   */
  accrued(companyId: number, at = this.now(), userId?: number) {
    let total = 0
    for (const call of this.#running.values()) {
      if (call.companyId !== companyId) continue
      if (userId !== undefined && call.userId !== userId) continue
      total += Math.ceil((call.pricePerMinuteMicro * Math.max(0, at - call.startedAt)) / 60_000)
    }
    return total
  }

  /** The company's priced calls running on this node, by call UUID. */
  runningOf(companyId: number): Array<[string, RunningCall]> {
    return [...this.#running].filter(([, call]) => call.companyId === companyId)
  }

  /** Companies with priced calls running on this node. */
  companiesRunning(): Set<number> {
    return new Set([...this.#running.values()].map((call) => call.companyId))
  }

  /**
   * At start: this month's rated costs from the CDRs, for every counter that does not exist yet
   * (another node's live counter in Redis is left alone). Time zones per company.
   */
  async rebuild(timeZoneOf: (companyId: number) => string, at = this.now()) {
    // The earliest month start of any time zone is at most 14 hours before the UTC one
    const since = DateTime.fromMillis(at, { zone: 'utc' }).startOf('month').minus({ hours: 14 })
    const rows = await db
      .from('call_records')
      .whereNotNull('rated_at')
      .where('cost_micro', '>', 0)
      .whereNotNull('company_id')
      .where('started_at', '>=', sqlTime(since))
      .select('company_id', 'user_id', 'started_at', 'cost_micro')
    const totals = new Map<string, { window: number; value: number }>()
    const count = (key: string, window: number, value: number) => {
      const entry = totals.get(key) ?? { window, value: 0 }
      entry.value += value
      totals.set(key, entry)
    }
    for (const row of rows) {
      const timeZone = timeZoneOf(Number(row.company_id))
      const startedAt =
        row.started_at instanceof Date
          ? row.started_at.getTime()
          : DateTime.fromSQL(row.started_at, { zone: 'utc' }).toMillis()
      const current = this.keys('x', timeZone, at)
      const subjects = [
        `company:${row.company_id}`,
        ...(row.user_id !== null ? [`user:${row.user_id}`] : []),
      ]
      for (const subject of subjects) {
        const keys = this.keys(subject, timeZone, startedAt)
        if (keys.month.endsWith(current.month.slice(-7)))
          count(keys.month, 40 * 86_400, Number(row.cost_micro))
        if (keys.day.endsWith(current.day.slice(-10)))
          count(keys.day, 2 * 86_400, Number(row.cost_micro))
      }
    }
    for (const [key, { window, value }] of totals) {
      if ((await this.counters.get(key)) === 0) await this.counters.increment(key, window, value)
    }
    return totals
  }
}
