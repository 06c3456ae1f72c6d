import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#accounts/models/user'

export default class InformationRequestPolicy extends BasePolicy {
  async handle(user: User) {
    return user.isStaff && (await user.hasPermission('privacy.requests.handle'))
  }
}
