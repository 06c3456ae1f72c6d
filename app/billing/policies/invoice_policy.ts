import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#accounts/models/user'
import type Invoice from '#billing/models/invoice'

/**
 * Customers with billing.view (by default the owner; a superadmin may grant it to the admin role)
 * see their own company's invoices; staff with billing.manage run and correct them.
 */
export default class InvoicePolicy extends BasePolicy {
  async list(user: User) {
    return !user.isStaff && user.companyId !== null && (await user.hasPermission('billing.view'))
  }

  async download(user: User, invoice: Invoice) {
    return (await this.list(user)) && invoice.companyId === user.companyId
  }

  async manage(user: User) {
    return user.isStaff && (await user.hasPermission('billing.manage'))
  }
}
