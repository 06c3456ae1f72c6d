import { DateTime } from 'luxon'
import JobRun from '#core/monitoring/job_run'

/** What the metered queue tells about scheduled jobs (none in unit tests without a database). */
export interface JobRunLog {
  scheduled(job: string, everyMs: number): Promise<void>
  succeeded(job: string): Promise<void>
  failed(job: string, error: unknown): Promise<void>
  /**
   * When the job last succeeded on any node: null when it never did, undefined when that cannot
   * be read (no `job_runs` table yet).
   */
  lastSuccess(job: string): Promise<Date | null | undefined>
}

/**
 * Keeps each scheduled job's last success and failure in `job_runs`, shared by all nodes. Jobs
 * are scheduled at boot, which for `ace migration:run` on a new database is before the table
 * exists: then the row is written with the first run instead.
 */
export default class DatabaseJobRunLog implements JobRunLog {
  readonly #intervals = new Map<string, number>()

  constructor(private clock: () => DateTime = () => DateTime.utc()) {}

  async scheduled(job: string, everyMs: number) {
    this.#intervals.set(job, Math.round(everyMs / 1000))
    await this.#row(job).catch(() => null)
  }

  async succeeded(job: string) {
    const row = await this.#row(job)
    row.lastSuccessAt = this.clock()
    await row.save()
  }

  async failed(job: string, error: unknown) {
    const row = await this.#row(job)
    row.lastFailureAt = this.clock()
    row.lastError = (error instanceof Error ? error.message : String(error)).slice(0, 200)
    await row.save()
  }

  async lastSuccess(job: string) {
    try {
      const row = await JobRun.findBy('job', job)
      return row?.lastSuccessAt?.toJSDate() ?? null
    } catch {
      return undefined
    }
  }

  async #row(job: string) {
    const intervalSeconds = this.#intervals.get(job) ?? 0
    const known = await JobRun.findBy('job', job)
    if (known) {
      if (known.intervalSeconds !== intervalSeconds) {
        known.intervalSeconds = intervalSeconds
        await known.save()
      }
      return known
    }
    try {
      return await JobRun.create({ job, intervalSeconds, scheduledAt: this.clock() })
    } catch (error) {
      // Another node wrote it at the same moment
      const other = await JobRun.findBy('job', job)
      if (!other) throw error
      return other
    }
  }
}
