import app from '@adonisjs/core/services/app'
import type { JobQueue } from '#core/queue/types'

let queue: JobQueue

await app.booted(async () => {
  queue = await app.container.make('jobs.queue')
})

export { queue as default }
