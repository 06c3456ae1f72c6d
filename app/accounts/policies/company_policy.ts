import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#accounts/models/user'
import type Company from '#accounts/models/company'

export default class CompanyPolicy extends BasePolicy {
  async viewAny(user: User) {
    return user.isStaff && (await user.hasPermission('companies.view'))
  }

  async changeStatus(user: User) {
    return user.isStaff && (await user.hasPermission('companies.manage'))
  }

  /**
   * Company admins manage the users of their own company only, and not while it is suspended
   * (a suspended company keeps read access and emergency calls, nothing more).
   */
  async manageUsers(user: User, company: Company) {
    return (
      user.companyId === company.id &&
      company.status !== 'suspended' &&
      (await user.hasPermission('company.users.manage'))
    )
  }
}
