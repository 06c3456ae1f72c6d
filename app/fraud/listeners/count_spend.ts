import app from '@adonisjs/core/services/app'
import type { EventsList } from '@adonisjs/core/types'
import Company from '#accounts/models/company'
import fraudConfig from '#config/fraud'
import { LookupCache } from '#core/caching/lookup_changes'

/** The company's time zone (its day and month), kept between calls until a company changes. */
const timeZones = new LookupCache<number, string | null>()

/**
 * billing:call_rated: the call's cost joins its company's and user's spend of the day and month,
 * and the company's calls still running are checked against the caps at once.
 */
export default class CountSpend {
  async handle(rated: EventsList['billing:call_rated']) {
    const timeZone = await timeZones.get(
      rated.companyId,
      async () => (await Company.find(rated.companyId))?.timeZone ?? null
    )
    const spend = await app.container.make('fraud.spend')
    await spend.add(
      {
        companyId: rated.companyId,
        userId: rated.userId,
        costMicro: rated.costMicro,
        startedAt: rated.startedAt.toMillis(),
      },
      timeZone ?? fraudConfig.timeZone
    )
    await (await app.container.make('fraud.spend_watch')).check(rated.companyId)
  }
}
