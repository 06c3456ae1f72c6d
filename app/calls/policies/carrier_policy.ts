import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#accounts/models/user'
import type Company from '#accounts/models/company'

export default class CarrierPolicy extends BasePolicy {
  async manage(user: User) {
    return user.isStaff && (await user.hasPermission('carriers.manage'))
  }

  /** A company's owner or admin objects for the company (Art. 28(2) GDPR). */
  async object(user: User, company: Company) {
    return (
      user.companyId === company.id &&
      company.status !== 'terminated' &&
      ((await user.hasPermission('company.settings.manage')) ||
        (await user.hasPermission('company.users.manage')))
    )
  }
}
