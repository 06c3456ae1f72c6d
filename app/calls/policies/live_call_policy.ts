import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#accounts/models/user'

export default class LiveCallPolicy extends BasePolicy {
  /** Staff with calls.live.manage see the running calls and may end one. */
  async manage(user: User) {
    return user.isStaff && (await user.hasPermission('calls.live.manage'))
  }
}
