import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import type { Job } from '#core/queue/types'
import { retentionDeleted } from '#core/metrics/job_metrics'
import AccountEndService from '#privacy/services/account_end_service'
import AccountTerminationService from '#privacy/services/account_termination_service'

export interface AccountEndPayload {
  /** ISO time to decide against (tests); now otherwise. */
  now?: string
}

/**
 * Carries out owners' terminations at their end date, deletes the account data of terminated
 * companies when due, and emptied company rows later.
 */
export default class AccountEndJob implements Job<AccountEndPayload> {
  readonly name = 'privacy.account_end'

  async handle(payload: AccountEndPayload = {}) {
    const now = payload.now ? DateTime.fromISO(payload.now) : DateTime.utc()
    const terminations = await app.container.make(AccountTerminationService)
    const carriedOut = await terminations.carryOutDue(now)
    if (carriedOut) logger.info({ carriedOut }, 'privacy: terminations carried out')
    const accounts = await app.container.make(AccountEndService)
    for (const companyId of await accounts.due(now)) {
      const result = await accounts.end(companyId, now)
      if (result) logger.info({ companyId, users: result.users }, 'privacy: account data deleted')
    }
    retentionDeleted('companies', await accounts.purgeEmptied())
  }
}
