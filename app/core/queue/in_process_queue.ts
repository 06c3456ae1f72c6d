import type { Logger } from '@adonisjs/core/logger'
import type {
  DispatchOptions,
  Job,
  JobQueue,
  QueueCounts,
  ScheduleOptions,
} from '#core/queue/types'
import RecentKeys from '#core/queue/recent_keys'

/** The seam to the timers of delayed jobs (tests pass one they fire themselves). */
export interface QueueTimer {
  set(callback: () => void, delayMs: number): unknown
  clear(handle: unknown): void
}

const realTimer: QueueTimer = {
  set(callback, delayMs) {
    // close() runs what is still delayed: the timer need not keep the process alive
    return setTimeout(callback, delayMs).unref()
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

interface DelayedJob {
  timer: unknown
  key?: string
  start(): void
}

/**
 * The embedded driver: jobs run in this process, schedules and delayed jobs are timers. Nothing
 * survives a restart.
 */
export default class InProcessQueue implements JobQueue {
  readonly driver = 'in_process' as const
  #jobs = new Map<string, Job<any>>()
  #running = new Set<Promise<void>>()
  #timers: NodeJS.Timeout[] = []
  #pendingSchedules: Array<() => void> = []
  #started = false
  #recentKeys = new RecentKeys()
  #delayed = new Set<DelayedJob>()

  constructor(
    private logger: Logger,
    private timer: QueueTimer = realTimer
  ) {}

  register<P>(job: Job<P>) {
    this.#jobs.set(job.name, job)
  }

  async dispatch<P>(job: Job<P>, payload: P, options: DispatchOptions = {}) {
    this.register(job)
    if (options.key !== undefined) {
      if (this.#recentKeys.has(options.key)) return
      this.#recentKeys.add(options.key)
    }
    if (!options.delayMs || options.delayMs <= 0) return this.#run(job, payload)
    const delayed: DelayedJob = {
      key: options.key,
      start: () => {
        this.#delayed.delete(delayed)
        this.#run(job, payload)
      },
      timer: undefined,
    }
    delayed.timer = this.timer.set(delayed.start, options.delayMs)
    this.#delayed.add(delayed)
  }

  #run<P>(job: Job<P>, payload: P) {
    const run = Promise.resolve()
      .then(() => job.handle(payload))
      .catch((error) => this.logger.error({ err: error, job: job.name }, 'job failed'))
      .finally(() => this.#running.delete(run))
    this.#running.add(run)
  }

  async schedule<P>(job: Job<P>, payload: P, options: ScheduleOptions) {
    this.register(job)
    const arm = () => {
      const timer = setInterval(() => void this.dispatch(job, payload), options.everyMs)
      timer.unref()
      this.#timers.push(timer)
    }
    if (this.#started) arm()
    else this.#pendingSchedules.push(arm)
  }

  async start() {
    this.#started = true
    this.#pendingSchedules.splice(0).forEach((arm) => arm())
  }

  async drain() {
    while (this.#running.size || this.#delayed.size) {
      for (const delayed of [...this.#delayed]) {
        this.timer.clear(delayed.timer)
        // It ran before its time: a dispatch under its key later in its window queues again
        if (delayed.key !== undefined) this.#recentKeys.delete(delayed.key)
        delayed.start()
      }
      await Promise.allSettled([...this.#running])
    }
  }

  /** Jobs start at once here: nothing waits; the scheduled ones are timers, not queued jobs. */
  async counts(): Promise<QueueCounts> {
    return { waiting: 0, active: this.#running.size, delayed: this.#delayed.size }
  }

  async close() {
    this.#timers.splice(0).forEach((timer) => clearInterval(timer))
    await this.drain()
  }
}
