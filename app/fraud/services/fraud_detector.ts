import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type Company from '#accounts/models/company'
import { keptRows } from '#accounts/kept_rows'
import type { FraudConfig } from '#config/fraud'
import type { ProcessingRestrictionSource } from '#core/processing_restrictions'
import { sqlTime } from '#core/sql_time'
import { type Baseline, baselineWindow, buildBaseline } from '#fraud/detection/baseline'
import { authFailures, callSignals } from '#fraud/detection/signals'
import type { CallFact, SignalHit } from '#fraud/detection/types'
import type FraudPolicies from '#fraud/services/fraud_policies'
import type FraudResponse from '#fraud/services/fraud_response'
import type NumberRisk from '#fraud/services/number_risk'
import RecentCalls, { CALL_COLUMNS, callsStarted, type CallRow } from '#fraud/services/recent_calls'

/** When the local day that starts at `dayStart` (a local midnight) ends: the next local midnight. */
function dayEndsOf(dayStart: number, timeZone: string): number {
  return DateTime.fromMillis(dayStart, { zone: timeZone })
    .plus({ days: 1 })
    .startOf('day')
    .toMillis()
}

/** SQLite's stored format, which Date.parse reads as ISO once it has a "T" and a "Z". */
const SQL_UTC = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,3})?$/

/** A timestamp as raw queries return it: a Date (PostgreSQL) or "yyyy-MM-dd HH:mm:ss" in UTC (SQLite). */
function epoch(value: Date | string | null): number | null {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value.getTime()
  // (without luxon's parser: two timestamps per row read, issue 17)
  if (SQL_UTC.test(value)) return Date.parse(`${value.replace(' ', 'T')}Z`)
  const parsed = DateTime.fromSQL(value, { zone: 'utc' })
  return parsed.isValid ? parsed.toMillis() : DateTime.fromISO(value, { zone: 'utc' }).toMillis()
}

/**
 * The anomaly detection of issue 14, run as background jobs: after calls ended (call:ended, once
 * per company and few seconds) the company's recent traffic is held against its baseline; every
 * few minutes the audit log is scanned for failed logins and SIP authentications. Hits go to
 * FraudResponse.
 */
export default class FraudDetector {
  /**
   * Baselines per company and local day (rebuilt once a day, or when the process restarts), with
   * the end of that local day.
   */
  #baselines = new Map<number, { baseline: Baseline; dayEnds: number }>()
  /** Each company's recent calls, kept between analyses and brought up to date. */
  #recent: RecentCalls<CallFact>

  constructor(
    private config: FraudConfig,
    private policies: FraudPolicies,
    private response: FraudResponse,
    private restrictions: ProcessingRestrictionSource
  ) {
    this.#recent = new RecentCalls({
      marginMs: 2_000,
      reloadAfterMs: 5 * 60_000,
      verifyEveryMs: 30_000,
      maxCompanies: 10_000,
    })
  }

  /** How far back the recent-traffic signals look. */
  get #recentMinutes() {
    const detection = this.config.detection
    return Math.max(
      60,
      detection.burstMinutes,
      detection.shortCallMinutes,
      detection.sequentialMinutes,
      detection.oneNumberHours * 60,
      detection.wangiriMinutes
    )
  }

  /** What the detection reads of a row; the country comes from the number alone (no risk prefix). */
  #fact(row: CallRow, risk: NumberRisk): CallFact {
    const direction = row.direction as CallFact['direction']
    const raw: string | null = direction === 'inbound' ? row.caller_number : row.callee_number
    const number = raw && /^\+[1-9]\d{3,14}$/.test(raw) ? raw : null
    const startedAt = epoch(row.started_at)!
    return {
      id: Number(row.id),
      userId: row.user_id === null ? null : Number(row.user_id),
      direction,
      emergency: Boolean(row.emergency),
      number,
      country: number ? risk.classify(number).country : null,
      startedAt,
      endedAt: epoch(row.ended_at),
      answered: row.answered_at !== null,
      durationSeconds: Number(row.duration_seconds ?? 0),
      refused: row.disconnect_cause === 'refused',
    }
  }

  /** The baseline's weeks, read whole (once a day per company). */
  async #calls(companyId: number, from: number, to: number, risk: NumberRisk) {
    const rows = await callsStarted(companyId, from, to).select(CALL_COLUMNS)
    return rows.map((row) => this.#fact(row, risk)).filter((call) => !call.emergency)
  }

  /** The company's baseline for the local day of `now` (built from the CDRs of the weeks before). */
  async baseline(company: Company, now: number, risk: NumberRisk): Promise<Baseline> {
    const timeZone = company.timeZone ?? this.config.timeZone
    const weeks = this.config.detection.baselineWeeks
    const kept = this.#baselines.get(company.id)
    // The same local day as the kept one's: the same window, without luxon's time zone arithmetic
    // at every call (issue 17).
    if (
      kept &&
      kept.baseline.timeZone === timeZone &&
      kept.baseline.weeks === weeks &&
      now >= kept.baseline.to &&
      now < kept.dayEnds
    )
      return kept.baseline
    const window = baselineWindow(now, timeZone, weeks)
    const cached = kept?.baseline
    if (cached && cached.from === window.from && cached.timeZone === timeZone) return cached
    const [calls, excludedUsers] = await Promise.all([
      this.#calls(company.id, window.from, window.to - 1, risk),
      this.restrictions.restrictedUserIds(company.id),
    ])
    const baseline = buildBaseline(calls, { now, timeZone, weeks, excludedUsers })
    if (this.#baselines.size >= 10_000) this.#baselines.clear()
    this.#baselines.set(company.id, { baseline, dayEnds: dayEndsOf(window.to, timeZone) })
    return baseline
  }

  /** Forgets cached baselines and recent calls (tests, whose rolled-back ids come again). */
  forgetAll() {
    this.#baselines.clear()
    this.#recent.forgetAll()
  }

  /**
   * One call's analysis: the company's recent calls against its baseline, and that call on its own.
   * A call:ended announced late is analysed so, and so were all calls before the windows (jobs an
   * older node queued).
   */
  analyseCall(companyId: number, callId: number | null, now = Date.now()): Promise<SignalHit[]> {
    return this.#analyse(companyId, now, (recent) => {
      const ended = callId === null ? undefined : recent.find((call) => call.id === callId)
      return ended ? [ended] : []
    })
  }

  /**
   * A window's analysis (AnalyseCall's batching): the company's recent calls against its baseline,
   * and every call that ended since `endedSince` on its own. The windows' margins overlap: a call
   * analysed twice raises nothing twice (FraudResponse records a signal once per key and level).
   */
  analyseCompany(companyId: number, endedSince: number, now = Date.now()): Promise<SignalHit[]> {
    return this.#analyse(companyId, now, (recent) =>
      recent.filter((call) => call.endedAt !== null && call.endedAt >= endedSince)
    )
  }

  async #analyse(
    companyId: number,
    now: number,
    endedOf: (recent: CallFact[]) => CallFact[]
  ): Promise<SignalHit[]> {
    const company = await keptRows.company(companyId)
    if (!company) return []
    const risk = await this.policies.numberRisk()
    const baseline = await this.baseline(company, now, risk)
    const recent = (
      await this.#recent.of(company.id, now - this.#recentMinutes * 60_000, now, (row) =>
        this.#fact(row, risk)
      )
    ).filter((call) => !call.emergency)
    const hits = callSignals(
      { config: this.config.detection, homeCountry: company.country, baseline, recent, now },
      endedOf(recent)
    )
    await this.response.handle(company.id, hits, DateTime.fromMillis(now, { zone: 'utc' }))
    return hits
  }

  /** Failed web logins and SIP authentications per company (and of unknown accounts) in the audit log. */
  async analyseAuthFailures(
    now = Date.now()
  ): Promise<Array<{ companyId: number | null; hits: SignalHit[] }>> {
    const detection = this.config.detection
    const rows = await db
      .from('audit_entries')
      .whereIn('action', ['auth.login.failed', 'sip.auth.failed'])
      .where(
        'created_at',
        '>',
        sqlTime(DateTime.fromMillis(now - detection.authFailureMinutes * 60_000))
      )
      .where('created_at', '<=', sqlTime(DateTime.fromMillis(now)))
      .select('company_id', 'action')
      .count('* as failures')
      .groupBy('company_id', 'action')
    const byCompany = new Map<number | null, { webLogins: number; sipAuthentications: number }>()
    for (const row of rows) {
      const companyId = row.company_id === null ? null : Number(row.company_id)
      const counts = byCompany.get(companyId) ?? { webLogins: 0, sipAuthentications: 0 }
      if (row.action === 'auth.login.failed') counts.webLogins += Number(row.failures)
      else counts.sipAuthentications += Number(row.failures)
      byCompany.set(companyId, counts)
    }
    const results = []
    for (const [companyId, counts] of byCompany) {
      const hits = authFailures(detection, { companyId, ...counts })
      if (!hits.length) continue
      await this.response.handle(companyId, hits, DateTime.fromMillis(now, { zone: 'utc' }))
      results.push({ companyId, hits })
    }
    return results
  }
}
