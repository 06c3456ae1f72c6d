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

  constructor(inner: JobQueue, options: { now?: () => number; runs?: JobRunLog } = {}) {
    this.#inner = inner
    this.#now = options.now ?? Date.now
    this.#runs = options.runs
    countsOf = () => this.counts()
  }

  readonly #now: () => number
  /** Scheduled jobs' last success and failure, for the monitoring (retention missed, queue stuck). */
  readonly #runs: JobRunLog | undefined
  readonly #scheduled = new Set<string>()

  get driver() {
    return this.#inner.driver
  }

  register<P>(job: Job<P>) {
    this.#inner.register(this.#wrap(job))
  }

  dispatch<P>(job: Job<P>, payload: P, options?: DispatchOptions) {
    return this.#inner.dispatch(this.#wrap(job), payload, options)
  }

  async schedule<P>(job: Job<P>, payload: P, options: ScheduleOptions) {
    this.#scheduled.add(job.name)
    await this.#runs?.scheduled(job.name, options.everyMs)
    return this.#inner.schedule(this.#wrap(job), payload, options)
  }

  start() {
    return this.#inner.start()
  }

  drain() {
    return this.#inner.drain()
  }

  close() {
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
    const scheduled = this.#scheduled
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
          if (runs && scheduled.has(job.name)) await runs.succeeded(job.name).catch(() => {})
        } catch (error) {
          jobRuns.inc({ job: job.name, outcome: 'failed' })
          if (isRetention(job.name)) retentionRuns.inc({ job: job.name, outcome: 'failed' })
          if (runs && scheduled.has(job.name)) await runs.failed(job.name, error).catch(() => {})
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
