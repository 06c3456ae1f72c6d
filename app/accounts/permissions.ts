/**
 * The RBAC catalogue: named permissions and the least-privilege roles seeded with them.
 * Policies check permissions, never role names; the role-permission matrix is data that a
 * superadmin edits in the admin area. This file only seeds the defaults.
 */
export type PermissionScope = 'staff' | 'company'

export const PERMISSIONS = {
  // Staff (our employees)
  'admin.access': 'staff',
  'companies.view': 'staff',
  'companies.manage': 'staff',
  'carriers.manage': 'staff',
  'numbers.manage': 'staff',
  'fraud.view': 'staff',
  'fraud.review': 'staff',
  // A company's destination permissions, risk classes, limits and suspension; the risk prefix table
  'fraud.manage': 'staff',
  'privacy.requests.handle': 'staff',
  // Personal-data breaches (Art. 33, 34 GDPR): record, notify the affected customers, the authority
  'privacy.breaches.manage': 'staff',
  'roles.manage': 'staff',
  'audit.view': 'staff',
  'staff.manage': 'staff',
  'calls.live.manage': 'staff',
  // See and lift brute-force locks of SIP logins (a source address or a username)
  'sip.locks.lift': 'staff',
  // Price lists, company overrides, carriers' purchase prices and margins
  'billing.manage': 'staff',
  // The alert channel's alerts (fraud, operations) in the admin area and by mail
  'alerts.view': 'staff',
  // Customers
  'calls.place': 'company',
  'calls.history.view': 'company',
  // The call history of everyone in the company, not only one's own
  'calls.history.company': 'company',
  'company.users.manage': 'company',
  'company.settings.manage': 'company',
  'company.audit.view': 'company',
  'numbers.assign': 'company',
  'billing.view': 'company',
  // The company's payment details: SEPA direct debit mandate or bank transfer
  'billing.payment.manage': 'company',
} as const satisfies Record<string, PermissionScope>

export type PermissionName = keyof typeof PERMISSIONS

export const STAFF_ROLES = ['superadmin', 'support', 'fraud_analyst', 'privacy_officer'] as const
export const COMPANY_ROLES = ['owner', 'admin', 'member'] as const
export type StaffRoleName = (typeof STAFF_ROLES)[number]
export type CompanyRoleName = (typeof COMPANY_ROLES)[number]

const staffPermissions = (Object.keys(PERMISSIONS) as PermissionName[]).filter(
  (name) => PERMISSIONS[name] === 'staff'
)

export const DEFAULT_ROLE_PERMISSIONS: Record<StaffRoleName | CompanyRoleName, PermissionName[]> = {
  superadmin: staffPermissions,
  support: [
    'admin.access',
    'companies.view',
    'numbers.manage',
    'audit.view',
    'sip.locks.lift',
    'alerts.view',
  ],
  fraud_analyst: [
    'admin.access',
    'companies.view',
    'fraud.view',
    'fraud.review',
    'fraud.manage',
    'alerts.view',
  ],
  privacy_officer: [
    'admin.access',
    'companies.view',
    'privacy.requests.handle',
    'privacy.breaches.manage',
    'audit.view',
  ],
  owner: [
    'calls.place',
    'calls.history.view',
    'calls.history.company',
    'company.users.manage',
    'company.settings.manage',
    'company.audit.view',
    'billing.view',
    'numbers.assign',
    'billing.payment.manage',
  ],
  admin: [
    'calls.place',
    'calls.history.view',
    'calls.history.company',
    'company.users.manage',
    'company.audit.view',
    'numbers.assign',
    'billing.payment.manage',
  ],
  member: ['calls.place', 'calls.history.view'],
}
