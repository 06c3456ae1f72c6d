import type { EventsList } from '@adonisjs/core/types'

/**
 * A terminated company's running calls end at once (its registrations and web phone logins are
 * revoked by RevokeWebPhoneAccess). Emergency calls run on. Events stay in this process, so only
 * this node's calls are reached. Registered in start/events.ts.
 */
export default class EndCompanyCalls {
  async companyStatusChanged({ companyId, to }: EventsList['company:status_changed']) {
    if (to !== 'terminated') return
    const { default: B2bua } = await import('#calls/b2bua/b2bua')
    await B2bua.started?.endCompanyCalls(companyId)
  }
}
