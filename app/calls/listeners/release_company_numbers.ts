import type { EventsList } from '@adonisjs/core/types'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import NumberService from '#calls/services/number_service'

/**
 * Account end: a terminated company keeps its numbers until its data is deleted (its final invoice
 * bills them, and a port-out can still complete); then they go back into the inventory, into
 * quarantine. Registered in start/events.ts.
 */
export default class ReleaseCompanyNumbers {
  async accountEnded({ companyId, at }: EventsList['company:account_ended']) {
    const numbers = await app.container.make(NumberService)
    numbers.now = () => DateTime.fromISO(at, { zone: 'utc' })
    await numbers.releaseForCompany(companyId, { actor: null, ip: null })
  }
}
