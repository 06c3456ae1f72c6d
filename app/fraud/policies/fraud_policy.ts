import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#accounts/models/user'

export default class FraudPolicy extends BasePolicy {
  /** Staff with fraud.manage set a company's destinations, limits and suspension, and the prefix table. */
  async manage(user: User) {
    return user.isStaff && (await user.hasPermission('fraud.manage'))
  }

  /** Staff with fraud.review decide the review queue: clear, confirm, adjust limits. */
  async review(user: User) {
    return user.isStaff && (await user.hasPermission('fraud.review'))
  }
}
