import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { sqlTime } from '#core/sql_time'

/** A CDR as the detection reads it, before it becomes a CallFact. */
export type CallRow = Record<string, any>

export const CALL_COLUMNS = [
  'id',
  'user_id',
  'direction',
  'emergency',
  'caller_number',
  'callee_number',
  'started_at',
  'answered_at',
  'ended_at',
  'duration_seconds',
  'disconnect_cause',
]

/**
 * A company's calls (outbound and inbound) that started in [from, to]: the query the baseline and
 * the recent window both read (the index call_records (company_id, started_at, direction) serves it).
 */
export function callsStarted(companyId: number, from: number, to: number) {
  return db
    .from('call_records')
    .where('company_id', companyId)
    .where('started_at', '>=', sqlTime(DateTime.fromMillis(from)))
    .where('started_at', '<=', sqlTime(DateTime.fromMillis(to)))
    .whereIn('direction', ['outbound', 'inbound'])
}

export interface RecentCallsOptions {
  /** A row becomes visible at most this long after its started_at/ended_at (commit, other nodes' clocks). */
  marginMs: number
  /** After this long a company's window is read whole again, whatever the checks said. */
  reloadAfterMs: number
  /** How often the window is checked against the database's count (0: at every look). */
  verifyEveryMs: number
  /** Companies kept at most; the least recently analysed are forgotten first. */
  maxCompanies: number
}

interface Window<T> {
  facts: Map<number, T>
  loadedAt: number
  syncedAt: number
  verifiedAt: number
}

/**
 * The company's calls of the last hours, for the analysis after every call (issue 17). Reading
 * them whole after each call cost a row per call of the window, a day of a busy company's calls
 * per call. So each company's window is kept and brought up to date with the rows that started or
 * ended since the last look (less a margin for commits and other nodes' clocks), and every few
 * seconds checked against the database's count of the window (an index-only count): a row that
 * vanished (a rolled-back test; erasure and retention delete only rows far older than the window)
 * or became visible later than the margin makes the counts differ, and the window is read whole
 * again. It is also read whole every few minutes, and whenever the analysis's clock goes back.
 *
 * Per process: every node keeps its own and reads the same table, so calls of all nodes count.
 */
export default class RecentCalls<T extends { startedAt: number }> {
  #windows = new Map<number, Window<T>>()

  constructor(private readonly options: RecentCallsOptions) {}

  /**
   * The company's calls started in [from, to], emergency calls included (the caller filters).
   * `toFact` turns a row into what is kept; a kept fact must not depend on anything but its row.
   */
  async of(companyId: number, from: number, to: number, toFact: (row: CallRow) => T): Promise<T[]> {
    const window = this.#windows.get(companyId)
    const fresh =
      window &&
      to >= window.syncedAt &&
      to - window.loadedAt < this.options.reloadAfterMs &&
      (await this.#update(companyId, window, from, to, toFact))
    if (!fresh) await this.#load(companyId, from, to, toFact)
    const kept = this.#windows.get(companyId)!
    // Most recently used last, so the oldest entry is the one to forget.
    this.#windows.delete(companyId)
    this.#windows.set(companyId, kept)
    return [...kept.facts.values()]
  }

  /** Forgets every window (tests, whose rolled-back ids come again). */
  forgetAll() {
    this.#windows.clear()
  }

  async #load(companyId: number, from: number, to: number, toFact: (row: CallRow) => T) {
    const rows = await callsStarted(companyId, from, to).select(CALL_COLUMNS)
    const facts = new Map<number, T>()
    for (const row of rows) facts.set(Number(row.id), toFact(row))
    if (!this.#windows.has(companyId) && this.#windows.size >= this.options.maxCompanies) {
      this.#windows.delete(this.#windows.keys().next().value!)
    }
    this.#windows.set(companyId, { facts, loadedAt: to, syncedAt: to, verifiedAt: to })
  }

  /** Brings the window up to [from, to]; false when it no longer matches the database. */
  async #update(
    companyId: number,
    window: Window<T>,
    from: number,
    to: number,
    toFact: (row: CallRow) => T
  ) {
    const since = sqlTime(DateTime.fromMillis(window.syncedAt - this.options.marginMs))
    const verify = to - window.verifiedAt >= this.options.verifyEveryMs
    const [changed, counted] = await Promise.all([
      callsStarted(companyId, from, to)
        .where((query) => query.where('started_at', '>=', since).orWhere('ended_at', '>=', since))
        .select(CALL_COLUMNS),
      verify ? callsStarted(companyId, from, to).count('* as total').first() : null,
    ])
    for (const row of changed) window.facts.set(Number(row.id), toFact(row))
    for (const [id, fact] of window.facts) if (fact.startedAt < from) window.facts.delete(id)
    window.syncedAt = to
    if (!verify) return true
    window.verifiedAt = to
    return Number(counted?.total ?? 0) === window.facts.size
  }
}
