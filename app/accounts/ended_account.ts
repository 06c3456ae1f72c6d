import type User from '#accounts/models/user'
import type Company from '#accounts/models/company'
import Role from '#accounts/models/role'

/**
 * After a company's account has ended (status terminated) its owners keep read access to the
 * invoices and the data export until the account data is deleted (privacy's account-end job);
 * every other user is locked out. The customer area lets such a login reach these routes only.
 */
export const ENDED_ACCOUNT_ROUTES = new Set([
  'customer.invoices',
  'customer.invoices.download',
  'customer.invoices.itemised',
  'customer.privacy.mine',
  'customer.privacy.export',
  'customer.privacy.export.download',
  'customer.account.end',
])

export async function keepsReadAccess(user: User, company: Company | null) {
  if (!company || company.status !== 'terminated' || company.accountDataDeletedAt) return false
  if (user.companyId !== company.id || user.isStaff) return false
  return (await Role.find(user.roleId))?.name === 'owner'
}
