import type { EventsList } from '@adonisjs/core/types'
import logger from '@adonisjs/core/services/logger'
import RatingService from '#billing/services/rating_service'

/**
 * Rates each CDR when its call ends (registered in start/events.ts). A failure is logged and
 * leaves rated_at null, so the call stays visible as unrated instead of breaking the call path.
 */
export default class RateCall {
  async handle({ record }: EventsList['call:ended']) {
    try {
      await new RatingService().rate(record)
    } catch (error) {
      logger.error({ err: error, cdr: record.id }, 'billing: rating a call failed')
    }
  }
}
