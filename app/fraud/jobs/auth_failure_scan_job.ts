import app from '@adonisjs/core/services/app'
import type { Job } from '#core/queue/types'

/** Every minute: bursts of failed web logins and SIP authentications in the audit log. */
export default class AuthFailureScanJob implements Job<{}> {
  readonly name = 'fraud.auth_failure_scan'

  async handle() {
    const detector = await app.container.make('fraud.detector')
    await detector.analyseAuthFailures()
  }
}
