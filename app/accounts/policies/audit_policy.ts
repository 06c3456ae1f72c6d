import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#accounts/models/user'

export default class AuditPolicy extends BasePolicy {
  /** Staff with audit.view see every entry. */
  async viewAll(user: User) {
    return user.isStaff && (await user.hasPermission('audit.view'))
  }

  /** Customer admins see their own company's entries. */
  async viewCompany(user: User) {
    return user.companyId !== null && (await user.hasPermission('company.audit.view'))
  }
}
