import { Queue, Worker, QueueEvents, type ConnectionOptions } from 'bullmq'
import type { Logger } from '@adonisjs/core/logger'
import type {
  DispatchOptions,
  Job,
  JobQueue,
  QueueCounts,
  ScheduleOptions,
} from '#core/queue/types'
import RecentKeys from '#core/queue/recent_keys'

/** Job ids drain() waits for, at most (the default). */
const MAX_TRACKED_JOBS = 10_000

/** While Redis stays out of reach, its connection errors are logged once a minute per source. */
const ERROR_LOG_INTERVAL_MS = 60_000

/** The scale-out driver: one BullMQ queue on Redis, one worker per process. */
export default class BullMqQueue implements JobQueue {
  readonly driver = 'bullmq' as const
  #jobs = new Map<string, Job<any>>()
  #queue: Queue
  /**
   * Only drain() (the tests) listens to the queue's events: made then, not at start. A
   * QueueEvents reads the queue's whole event stream (added, waiting, active, completed... of
   * every job of every node) in a loop of XREADs: several Redis round trips and parses per job,
   * paid by every process for nothing (issue 17).
   */
  #events?: QueueEvents
  #worker?: Worker
  #dispatched = new Set<string>()
  /**
   * Job ids of the keys this process dispatched lately. Redis would answer a repeat with "exists"
   * too, but at a round trip and a Lua script per dispatch: the fraud analysis's window key comes
   * with every call (issue 17).
   */
  #recentKeys = new RecentKeys()

  constructor(
    private connection: ConnectionOptions,
    private logger: Logger,
    private queueName = 'fluffycall',
    private prefix = 'fluffycall',
    private maxTrackedJobs = MAX_TRACKED_JOBS
  ) {
    // Dispatching fails instead of waiting while Redis is out of reach (as config/redis.ts's
    // main connection does): a page or a call's listener gets an error it can answer or log.
    // The worker's connection waits (BullMQ needs that for its blocking reads).
    this.#queue = new Queue(queueName, {
      connection: { ...connection, maxRetriesPerRequest: 1, commandTimeout: 3000 },
      prefix,
    })
    this.#queue.on('error', this.#connectionError('queue'))
  }

  /**
   * BullMQ writes a connection error without a listener to stderr, every reconnect (each 2 s
   * during an outage). Logged instead: the first at once, then at most once a minute.
   */
  #connectionError(source: 'queue' | 'worker') {
    let lastLoggedAt = Number.NEGATIVE_INFINITY
    let suppressed = 0
    return (error: Error) => {
      const now = Date.now()
      if (now - lastLoggedAt < ERROR_LOG_INTERVAL_MS) {
        suppressed += 1
        return
      }
      this.logger.error(
        { err: error, source, suppressedSinceLast: suppressed },
        'job queue error (usually Redis out of reach)'
      )
      lastLoggedAt = now
      suppressed = 0
    }
  }

  register<P>(job: Job<P>) {
    this.#jobs.set(job.name, job)
  }

  async dispatch<P>(job: Job<P>, payload: P, options: DispatchOptions = {}) {
    this.register(job)
    const jobId = options.key?.replaceAll(':', '_')
    if (jobId !== undefined && this.#recentKeys.has(jobId)) return
    const added = await this.#queue.add(job.name, payload, {
      // BullMQ keeps one job per id while it is queued, running or kept (removeOnComplete)
      ...(jobId !== undefined ? { jobId } : {}),
      // Waits in Redis's delayed set: any node's worker runs it when it is due, should this one die
      ...(options.delayMs && options.delayMs > 0 ? { delay: options.delayMs } : {}),
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: 1000,
      removeOnFail: 5000,
    })
    if (jobId !== undefined) this.#recentKeys.add(jobId)
    if (added.id) {
      this.#dispatched.add(added.id)
      // Only drain() (the tests) empties it: bounded, or it would keep an id per job for good.
      // The oldest go first; they finished long ago.
      if (this.#dispatched.size > this.maxTrackedJobs)
        this.#dispatched.delete(this.#dispatched.values().next().value!)
    }
  }

  /** How many dispatched jobs drain() would wait for (at most maxTrackedJobs). */
  get trackedJobs(): number {
    return this.#dispatched.size
  }

  async schedule<P>(job: Job<P>, payload: P, options: ScheduleOptions) {
    this.register(job)
    await this.#queue.upsertJobScheduler(
      job.name,
      { every: options.everyMs },
      { name: job.name, data: payload }
    )
  }

  async start() {
    this.#worker = new Worker(
      this.queueName,
      async (queued) => {
        const job = this.#jobs.get(queued.name)
        if (!job) throw new Error(`no job registered under "${queued.name}"`)
        await job.handle(queued.data)
      },
      { connection: this.connection, prefix: this.prefix, concurrency: 4 }
    )
    this.#worker.on('error', this.#connectionError('worker'))
    this.#worker.on('failed', (queued, error) =>
      this.logger.error({ err: error, job: queued?.name }, 'job failed')
    )
    await this.#worker.waitUntilReady()
  }

  /**
   * Made on the first drain and kept. It reads the events from the moment it is ready on; a job
   * that finished before is seen by waitUntilFinished's own look at the job's state.
   */
  async #queueEvents(): Promise<QueueEvents> {
    if (!this.#events) {
      this.#events = new QueueEvents(this.queueName, {
        connection: this.connection,
        prefix: this.prefix,
      })
    }
    await this.#events.waitUntilReady()
    return this.#events
  }

  async drain() {
    // Until no job dispatches another: a job's follow-up (e.g. its mail) counts as well
    if (this.#dispatched.size === 0) return
    const events = await this.#queueEvents()
    while (this.#dispatched.size) {
      const ids = [...this.#dispatched]
      this.#dispatched.clear()
      await Promise.allSettled(
        ids.map(async (id) => {
          const queued = await this.#queue.getJob(id)
          if (!queued) return
          // A delayed job runs now: drain() does not wait for its time
          const early = (await queued.isDelayed()) && (await this.#promote(queued))
          await queued.waitUntilFinished(events, 30_000)
          // It ran before its time: a dispatch under its id later in its window queues again
          if (early) {
            await queued.remove()
            this.#recentKeys.delete(id)
          }
        })
      )
    }
  }

  /** False when the job left the delayed set meanwhile (it became due, or was promoted elsewhere). */
  async #promote(queued: { promote(): Promise<void> }) {
    try {
      await queued.promote()
      return true
    } catch {
      return false
    }
  }

  async counts(): Promise<QueueCounts> {
    const counts = await this.#queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed')
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
    }
  }

  async close() {
    await this.#worker?.close()
    await this.#events?.close()
    await this.#queue.close()
  }
}
