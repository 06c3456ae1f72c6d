import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import { DateTime } from 'luxon'
import CarrierState from '#calls/models/carrier_state'
import CarrierLifecycleService, {
  CarrierLifecycleError,
} from '#calls/services/carrier_lifecycle_service'
import type { Job } from '#core/queue/types'
import { sqlTime } from '#core/sql_time'

/**
 * The tick that makes announced carriers active on their effective date, audited as the system
 * (no actor). A carrier that cannot be activated (switched off in config meanwhile) is logged
 * and tried again on the next tick.
 */
export default class CarrierActivationJob implements Job<{}> {
  readonly name = 'calls.carrier_activation'

  async handle() {
    const due = await CarrierState.query()
      .where('lifecycle', 'announced')
      .whereNotNull('effective_at')
      .where('effective_at', '<=', sqlTime(DateTime.utc()))
    if (!due.length) return
    const lifecycle = await app.container.make(CarrierLifecycleService)
    for (const state of due) {
      try {
        await lifecycle.activate(state.carrierName, null, null)
      } catch (error) {
        if (!(error instanceof CarrierLifecycleError)) throw error
        logger.warn(
          { carrier: state.carrierName, reason: error.code },
          'announced carrier not activated at its effective date'
        )
      }
    }
  }
}
