import app from '@adonisjs/core/services/app'
import type { Job } from '#core/queue/types'

/**
 * Hourly on the job queue: runs the TOM checks of the public TOMs page and stores their results.
 * The monitoring timer judges them (and runs them itself when this job did not for an hour), so a
 * stuck queue does not leave the page green.
 */
export default class TomChecksJob implements Job<Record<string, never>> {
  readonly name = 'core.tom_checks'

  async handle() {
    const monitoring = await app.container.make('monitoring')
    const toms = monitoring.checks.find((check) => check.name === 'toms')
    if (toms) await monitoring.read(toms)
  }
}
