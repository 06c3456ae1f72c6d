import { Counter, Gauge, Histogram } from 'prom-client'
import metrics from '#core/services/metrics'
import type {
  DispatchOptions,
  Job,
  JobQueue,
  QueueCounts,
  ScheduleOptions,
} from '#core/queue/types'
import type { JobRunLog } from '#core/monitoring/job_run_log'

const jobRuns = new Counter({
  name: 'fluffycall_jobs_total',
  help: 'Job runs by job name and outcome (completed, failed; every failed attempt counts)',
  labelNames: ['job', 'outcome'] as const,
  registers: [metrics],
})

const jobDuration = new Histogram({
  name: 'fluffycall_job_duration_seconds',
  help: 'Run time of jobs by job name',
  labelNames: ['job'] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
  registers: [metrics],
})

const retentionRuns = new Counter({
  name: 'fluffycall_retention_runs_total',
  help: 'Runs of the retention jobs (deleting data after its retention period) by job and outcome',
  labelNames: ['job', 'outcome'] as const,
  registers: [metrics],
})

const retentionLastSuccess = new Gauge({
  name: 'fluffycall_retention_last_success_timestamp_seconds',
  help: 'When each retention job last completed (Unix time); absent before its first run in this process',
  labelNames: ['job'] as const,
  registers: [metrics],
})

const retentionRows = new Counter({
  name: 'fluffycall_retention_rows_deleted_total',
  help: 'Rows the retention jobs deleted, by table',
  labelNames: ['table'] as const,
  registers: [metrics],
})

/** A retention job tells how many rows of a table it deleted (or shortened) in a run. */
export function retentionDeleted(table: string, rows: number) {
  if (rows > 0) retentionRows.inc({ table }, rows)
}

/** The queue the gauge reads (the latest one built: tests may build several). */
let countsOf: (() => Promise<QueueCounts>) | undefined

new Gauge({
  name: 'fluffycall_job_queue_jobs',
  help: 'Jobs in the queue by state (waiting, active, delayed)',
  labelNames: ['state'] as const,
  registers: [metrics],
  async collect() {
    const counts = await countsOf?.().catch(() => null)
    this.reset()
    if (!counts) return
    for (const [state, count] of Object.entries(counts)) this.set({ state }, count)
  },
})

const isRetention = (name: string) => name.includes('retention')

/**
 * Times and counts every job; the queue itself stays unaware. Each job is wrapped once (same
 * name), so the in-process driver and BullMQ's worker both run the measured version.
 */
export default class MeteredJobQueue implements JobQueue {
  readonly #inner: JobQueue
  readonly #wrapped = new WeakMap<Job<any>, Job<any>>()

  constructor(
    inner: JobQueue,
    options: {
      now?: () => number
      runs?: JobRunLog
      catchUp?: boolean
      /** Told when the catch-up at start could not dispatch (the database or Redis away). */
      onCatchUpError?: (error: unknown) => void
    } = {}
  ) {
    this.#inner = inner
    this.#now = options.now ?? Date.now
    this.#runs = options.runs
    this.#catchUp = options.catchUp ?? false
    this.#onCatchUpError = options.onCatchUpError ?? (() => {})
    countsOf = () => this.counts()
  }

  readonly #now: () => number
  /** Scheduled jobs' last success and failure, for the monitoring (retention missed, queue stuck). */
  readonly #runs: JobRunLog | undefined
  /** Run overdue scheduled jobs once at start (see #catchUpOverdue). */
  readonly #catchUp: boolean
  readonly #schedules: Array<{ job: Job<any>; payload: unknown; everyMs: number }> = []
  readonly #onCatchUpError: (error: unknown) => void
  /** The catch-up under way: the start does not wait for it, drain() does. */
  #catchingUp: Promise<void> = Promise.resolve()

  get driver() {
    return this.#inner.driver
  }

  /** The names of the scheduled jobs, in the order they were scheduled. */
  get scheduledJobs(): string[] {
    return this.#schedules.map((schedule) => schedule.job.name)
  }

  register<P>(job: Job<P>) {
    this.#inner.register(this.#wrap(job))
  }

  dispatch<P>(job: Job<P>, payload: P, options?: DispatchOptions) {
    return this.#inner.dispatch(this.#wrap(job), payload, options)
  }

  async schedule<P>(job: Job<P>, payload: P, options: ScheduleOptions) {
    this.#schedules.push({ job, payload, everyMs: options.everyMs })
    await this.#runs?.scheduled(job.name, options.everyMs)
    return this.#inner.schedule(this.#wrap(job), payload, options)
  }

  async start() {
    await this.#inner.start()
    // In the background: a database or Redis that is slow to answer must not hold the start
    if (this.#catchUp) this.#catchingUp = this.#catchUpOverdue().catch(this.#onCatchUpError)
  }

  /**
   * A scheduled job that never succeeded, or whose last success (on any node) is older than its
   * interval, runs once now. The in-process driver's timers begin anew with every start, so a
   * node restarted more often than a job's interval would otherwise never run it (a 6-hourly
   * retention job under daily deploys); and a node back after downtime deletes at once what fell
   * due meanwhile. The key holds one catch-up per job and interval window across nodes.
   */
  async #catchUpOverdue() {
    const now = this.#now()
    for (const { job, payload, everyMs } of this.#schedules) {
      const last = await this.#runs?.lastSuccess(job.name)
      if (last === undefined) continue
      if (last !== null && now - last.getTime() < everyMs) continue
      await this.dispatch(job, payload, {
        key: `catch-up:${job.name}:${Math.floor(now / everyMs)}`,
      })
    }
  }

  async drain() {
    await this.#catchingUp
    return this.#inner.drain()
  }

  async close() {
    await this.#catchingUp
    return this.#inner.close()
  }

  counts(): Promise<QueueCounts> {
    return this.#inner.counts()
  }

  #wrap<P>(job: Job<P>): Job<P> {
    const known = this.#wrapped.get(job)
    if (known) return known
    const now = this.#now
    const runs = this.#runs
    const schedules = this.#schedules
    const isScheduled = () => schedules.some((schedule) => schedule.job.name === job.name)
    const wrapped: Job<P> = {
      name: job.name,
      async handle(payload: P) {
        const stopTimer = jobDuration.startTimer({ job: job.name })
        try {
          await job.handle(payload)
          jobRuns.inc({ job: job.name, outcome: 'completed' })
          if (isRetention(job.name)) {
            retentionRuns.inc({ job: job.name, outcome: 'completed' })
            retentionLastSuccess.set({ job: job.name }, now() / 1000)
          }
          if (runs && isScheduled()) await runs.succeeded(job.name).catch(() => {})
        } catch (error) {
          jobRuns.inc({ job: job.name, outcome: 'failed' })
          if (isRetention(job.name)) retentionRuns.inc({ job: job.name, outcome: 'failed' })
          if (runs && isScheduled()) await runs.failed(job.name, error).catch(() => {})
          throw error
        } finally {
          stopTimer()
        }
      },
    }
    this.#wrapped.set(job, wrapped)
    return wrapped
  }
}
