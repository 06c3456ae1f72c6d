import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#accounts/models/user'

export default class BillingPolicy extends BasePolicy {
  /** Staff with billing.manage: price lists, company overrides, purchase prices and margins. */
  async manage(user: User) {
    return user.isStaff && (await user.hasPermission('billing.manage'))
  }
}
