import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#accounts/models/user'

/** Billing staff and the privacy officer place and release holds for billing disputes. */
export default class CallRecordHoldPolicy extends BasePolicy {
  async manage(user: User) {
    if (!user.isStaff) return false
    return (
      (await user.hasPermission('billing.manage')) ||
      (await user.hasPermission('privacy.requests.handle'))
    )
  }
}
