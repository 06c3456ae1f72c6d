import { randomBytes } from 'node:crypto'
import Company from '#accounts/models/company'
import Role from '#accounts/models/role'
import User from '#accounts/models/user'
import type { CompanyRoleName, StaffRoleName } from '#accounts/permissions'
import { acceptCurrentDpa } from '#tests/support/privacy'

export const TEST_PASSWORD = 'Correct-Horse-42'
let sequence = 0
/**
 * Tags every email of this run: the login limiter may live in Redis, which outlives the run, so an
 * address must not repeat from one run to the next.
 */
const RUN = randomBytes(3).toString('hex')

/**
 * A company with the given status, built directly (sign-up itself is tested through HTTP), with the
 * current DPA accepted unless `dpaAccepted: false` (then its calls are refused until an owner accepts).
 */
export async function makeCompany(
  status: Company['status'] = 'active',
  overrides: Partial<Company> = {},
  options: { dpaAccepted?: boolean } = {}
) {
  sequence += 1
  const company = await Company.create({
    legalName: `Test ${sequence} GmbH`,
    legalForm: 'GmbH',
    country: 'DE',
    vatId: `DE${String(100000000 + sequence)}`,
    billingStreet: 'Teststraße 1',
    billingPostalCode: '10115',
    billingCity: 'Berlin',
    billingCountry: 'DE',
    privacyContactName: 'Privacy Person',
    privacyContactEmail: `privacy${sequence}@example.test`,
    status,
    dataResidency: 'eu_only',
    region: 'eu',
    ...overrides,
  })
  if (options.dpaAccepted !== false) await acceptCurrentDpa(company)
  return company
}

export async function makeUser(role: CompanyRoleName | StaffRoleName, company?: Company | null) {
  // Taken before the first await: users made at the same time get numbers of their own
  const number = ++sequence
  const roleRow = await Role.findByOrFail('name', role)
  const staff = roleRow.scope === 'staff'
  return User.create({
    companyId: staff ? null : (company ?? (await makeCompany())).id,
    roleId: roleRow.id,
    isStaff: staff,
    fullName: `Person ${number}`,
    email: `${role}${number}-${RUN}@example.test`.toLowerCase(),
    password: TEST_PASSWORD,
    locale: 'de',
  })
}
