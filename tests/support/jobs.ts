import app from '@adonisjs/core/services/app'
import type { DispatchOptions, Job } from '#core/queue/types'

export interface DispatchedJob {
  job: Job<any>
  name: string
  payload: any
  options: DispatchOptions
}

/** Records what is dispatched on the app's queue instead of running it, until cleanup. */
export async function recordDispatches(cleanup: (fn: () => void) => void) {
  const queue = await app.container.make('jobs.queue')
  const dispatched: DispatchedJob[] = []
  const original = queue.dispatch
  queue.dispatch = async <P>(job: Job<P>, payload: P, options: DispatchOptions = {}) => {
    dispatched.push({ job, name: job.name, payload, options })
  }
  cleanup(() => {
    queue.dispatch = original
  })
  return dispatched
}

/** Runs the recorded jobs (what a worker would do after the response). */
export async function runDispatched(dispatched: DispatchedJob[]) {
  for (const entry of dispatched.splice(0)) await entry.job.handle(entry.payload)
}

/** Waits for every job the app's queue is running. */
export async function drainJobs() {
  await (await app.container.make('jobs.queue')).drain()
}
