/**
 * One small queue interface for every background job. With Redis configured the jobs go through
 * BullMQ (durable, shared by all nodes); on the embedded defaults the same job classes run in
 * process. Domain code only sees this interface.
 */
export interface Job<Payload> {
  /** Stable name used as the queue's job name. */
  readonly name: string
  handle(payload: Payload): Promise<void>
}

export interface DispatchOptions {
  /**
   * Makes the dispatch idempotent: a job with the same key dispatched again while the first is
   * queued, running or among the recently finished ones is not queued again (e.g. one fraud
   * analysis per CDR however often call:ended comes).
   */
  key?: string
  /**
   * Runs the job this much later (a delayed job: with BullMQ it waits in Redis, so a node that
   * dies meanwhile loses nothing). With `key`, dispatches under the same key until it runs are
   * one job: the way to run something at most once per window however often it is asked for.
   */
  delayMs?: number
}

export interface ScheduleOptions {
  /** Run every N milliseconds. */
  everyMs: number
}

/** Jobs by state, for the metrics (a queue that grows or a job that stays active is stuck). */
export interface QueueCounts {
  waiting: number
  active: number
  delayed: number
}

export interface JobQueue {
  readonly driver: 'in_process' | 'bullmq'
  register<P>(job: Job<P>): void
  dispatch<P>(job: Job<P>, payload: P, options?: DispatchOptions): Promise<void>
  schedule<P>(job: Job<P>, payload: P, options: ScheduleOptions): Promise<void>
  /** Starts workers and schedules; called once the app is ready. */
  start(): Promise<void>
  /**
   * Resolves when every dispatched job has finished (used by tests and graceful shutdown). Delayed
   * jobs run now instead of waiting for their time; as they ran early, their keys are free again.
   */
  drain(): Promise<void>
  close(): Promise<void>
  /** How many jobs wait, run and are delayed now. */
  counts(): Promise<QueueCounts>
}
