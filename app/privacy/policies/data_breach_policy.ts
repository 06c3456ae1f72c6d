import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#accounts/models/user'

export default class DataBreachPolicy extends BasePolicy {
  async manage(user: User) {
    return user.isStaff && (await user.hasPermission('privacy.breaches.manage'))
  }
}
