import type { Logger } from '@adonisjs/core/logger'
import type {
  DispatchOptions,
  Job,
  JobQueue,
  QueueCounts,
  ScheduleOptions,
} from '#core/queue/types'

/** How many dispatch keys are remembered (oldest forgotten first). */
const RECENT_KEYS = 10_000

/** The embedded driver: jobs run in this process, schedules are timers. Nothing survives a restart. */
export default class InProcessQueue implements JobQueue {
  readonly driver = 'in_process' as const
  #jobs = new Map<string, Job<any>>()
  #running = new Set<Promise<void>>()
  #timers: NodeJS.Timeout[] = []
  #pendingSchedules: Array<() => void> = []
  #started = false
  #recentKeys = new Set<string>()

  constructor(private logger: Logger) {}

  register<P>(job: Job<P>) {
    this.#jobs.set(job.name, job)
  }

  async dispatch<P>(job: Job<P>, payload: P, options: DispatchOptions = {}) {
    this.register(job)
    if (options.key !== undefined) {
      if (this.#recentKeys.has(options.key)) return
      this.#recentKeys.add(options.key)
      if (this.#recentKeys.size > RECENT_KEYS)
        this.#recentKeys.delete(this.#recentKeys.values().next().value!)
    }
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
    while (this.#running.size) await Promise.allSettled([...this.#running])
  }

  /** Jobs start at once here: nothing waits; the scheduled ones are timers, not queued jobs. */
  async counts(): Promise<QueueCounts> {
    return { waiting: 0, active: this.#running.size, delayed: 0 }
  }

  async close() {
    this.#timers.splice(0).forEach((timer) => clearInterval(timer))
    await this.drain()
  }
}
