import type { EventsList } from '@adonisjs/core/types'
import logger from '@adonisjs/core/services/logger'
import emitter from '@adonisjs/core/services/emitter'
import RatingService, { takeRatedWithEnd } from '#billing/services/rating_service'

/**
 * Rates each CDR when its call ends (registered in start/events.ts). Usually the end write has
 * rated it already (RatingService.endWrite, in the same statement): then only the cost is
 * announced. A failure is logged and leaves rated_at null, so the call stays visible as unrated
 * instead of breaking the call path.
 */
export default class RateCall {
  async handle({ record }: EventsList['call:ended']) {
    try {
      const withEnd = takeRatedWithEnd(record)
      const { rated, costMicro } = withEnd
        ? { rated: true, costMicro: withEnd.costMicro }
        : await new RatingService().rateOnce(record)
      if (rated && record.companyId !== null) await this.#announce(record, costMicro ?? 0)
    } catch (error) {
      logger.error({ err: error, cdr: record.id }, 'billing: rating a call failed')
    }
  }

  /** The cost just written, for the spend counters (fraud listens to billing:call_rated). */
  async #announce(record: EventsList['call:ended']['record'], costMicro: number) {
    if (costMicro <= 0) return
    await emitter.emit('billing:call_rated', {
      callId: record.id,
      companyId: record.companyId!,
      userId: record.userId,
      costMicro,
      startedAt: record.startedAt,
    })
  }
}
