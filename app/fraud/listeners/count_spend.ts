import app from '@adonisjs/core/services/app'
import type { EventsList } from '@adonisjs/core/types'
import { keptRows } from '#accounts/kept_rows'
import fraudConfig from '#config/fraud'

/**
 * billing:call_rated: the call's cost joins its company's and user's spend of the day and month,
 * and the company's calls still running are checked against the caps at once.
 */
export default class CountSpend {
  async handle(rated: EventsList['billing:call_rated']) {
    // Kept between calls (#accounts/kept_rows)
    const timeZone = (await keptRows.company(rated.companyId))?.timeZone
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
