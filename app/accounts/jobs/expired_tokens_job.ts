import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { Job } from '#core/queue/types'
import { sqlTime } from '#core/sql_time'

/** Removes password-reset tokens and invitations that can no longer be used. */
export default class ExpiredTokensJob implements Job<{}> {
  readonly name = 'accounts.expired_tokens'

  async handle() {
    const cutoff = sqlTime(DateTime.utc().minus({ days: 1 }))
    await db.from('password_reset_tokens').where('expires_at', '<', cutoff).delete()
    await db.from('invitations').whereNull('accepted_at').where('expires_at', '<', cutoff).delete()
  }
}
