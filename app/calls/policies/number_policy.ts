import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#accounts/models/user'
import type Company from '#accounts/models/company'

export default class NumberPolicy extends BasePolicy {
  /** Staff: import, assign to companies, release, delete. */
  async manage(user: User) {
    return user.isStaff && (await user.hasPermission('numbers.manage'))
  }

  /** Company owners and admins hand the company's numbers to its users (not while it is suspended). */
  async assign(user: User, company: Company) {
    return (
      !user.isStaff &&
      user.companyId === company.id &&
      company.status !== 'suspended' &&
      company.status !== 'terminated' &&
      (await user.hasPermission('numbers.assign'))
    )
  }
}
