import app from '@adonisjs/core/services/app'
import type { Job } from '#core/queue/types'

/** Records what is dispatched on the app's queue instead of running it, until cleanup. */
export async function recordDispatches(cleanup: (fn: () => void) => void) {
  const queue = await app.container.make('jobs.queue')
  const dispatched: Array<{ name: string; payload: unknown }> = []
  const original = queue.dispatch
  queue.dispatch = async <P>(job: Job<P>, payload: P) => {
    dispatched.push({ name: job.name, payload })
  }
  cleanup(() => {
    queue.dispatch = original
  })
  return dispatched
}
