import { randomBytes } from 'node:crypto'
import { DateTime } from 'luxon'
import { generate, generateSecret } from 'otplib'
import db from '@adonisjs/lucid/services/db'
import type { Page } from 'playwright-core'
import type Company from '#accounts/models/company'
import Role from '#accounts/models/role'
import User from '#accounts/models/user'
import TwoFactorService from '#accounts/services/two_factor_service'
import { makeCompany, TEST_PASSWORD } from '#tests/support/accounts'
import type { CompanyRoleName, StaffRoleName } from '#accounts/permissions'

/**
 * Browser tests cannot use the global transaction: the browser's requests reach the server on
 * their own connections. Each test therefore creates uniquely named data and removes it again.
 */
export function uniqueTag() {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
}

/** Collects what a test created and deletes it in the test's cleanup. */
export class Created {
  userIds = new Set<number>()
  companyIds = new Set<number>()
  emails = new Set<string>()

  user(user: User) {
    this.userIds.add(user.id)
    if (user.companyId) this.companyIds.add(user.companyId)
    return user
  }

  company(company: Company) {
    this.companyIds.add(company.id)
    return company
  }

  /** For rows the application created itself (sign-up): found again by the owner's email. */
  email(email: string) {
    this.emails.add(email.toLowerCase())
  }

  async cleanup() {
    if (this.emails.size) {
      const users = await User.query().whereIn('email', [...this.emails])
      for (const user of users) this.user(user)
    }
    if (this.companyIds.size) {
      const members = await User.query().whereIn('company_id', [...this.companyIds])
      for (const member of members) this.userIds.add(member.id)
    }
    // Audit entries stay (append-only); their actor/company references are cleared first so the
    // deletes work whether or not SQLite enforces the foreign keys.
    if (this.userIds.size) {
      await db
        .from('audit_entries')
        .whereIn('actor_id', [...this.userIds])
        .update({ actor_id: null })
      await db
        .from('invitations')
        .whereIn('invited_by_id', [...this.userIds])
        .update({ invited_by_id: null })
      await db
        .from('password_reset_tokens')
        .whereIn('user_id', [...this.userIds])
        .delete()
      await db
        .from('users')
        .whereIn('id', [...this.userIds])
        .delete()
    }
    if (this.companyIds.size) {
      await db
        .from('audit_entries')
        .whereIn('company_id', [...this.companyIds])
        .update({ company_id: null })
      await db
        .from('invitations')
        .whereIn('company_id', [...this.companyIds])
        .delete()
      await db
        .from('account_terminations')
        .whereIn('company_id', [...this.companyIds])
        .delete()
      await db
        .from('companies')
        .whereIn('id', [...this.companyIds])
        .delete()
    }
  }
}

/** A company with a unique name and VAT ID (leftovers of other runs never collide). */
export async function uniqueCompany(
  created: Created,
  status: Company['status'] = 'active',
  options: { dpaAccepted?: boolean } = {}
) {
  const tag = uniqueTag()
  const digits = String(
    Number.parseInt(randomBytes(4).toString('hex'), 16) % 1_000_000_000
  ).padStart(9, '0')
  return created.company(
    await makeCompany(
      status,
      {
        legalName: `Browser ${tag}`,
        vatId: `DE${digits}`,
        privacyContactEmail: `privacy-${tag}@example.test`,
      },
      options
    )
  )
}

/** A user with a unique email address. */
export async function uniqueUser(
  created: Created,
  role: CompanyRoleName | StaffRoleName,
  company?: Company | null
) {
  const roleRow = await Role.findByOrFail('name', role)
  const staff = roleRow.scope === 'staff'
  const tag = uniqueTag()
  const user = await User.create({
    companyId: staff ? null : (company ?? (await uniqueCompany(created))).id,
    roleId: roleRow.id,
    isStaff: staff,
    fullName: `Person ${tag}`,
    email: `${role}-${tag}@example.test`,
    password: TEST_PASSWORD,
    locale: 'de',
  })
  return created.user(user)
}

/** A staff user whose 2FA is already set up (staff may not enter the admin area without it). */
export async function staffWithTwoFactor(created: Created, role: StaffRoleName = 'superadmin') {
  const user = await uniqueUser(created, role)
  const secret = generateSecret()
  user.totpSecret = new TwoFactorService().sealSecret(secret)
  user.totpEnabledAt = DateTime.utc()
  await user.save()
  return { user, secret }
}

/** Logs in through the login form. */
export async function loginThroughForm(page: Page, email: string, password = TEST_PASSWORD) {
  await page.goto('/login')
  await page.fill('#field-email', email)
  await page.fill('#field-password', password)
  await Promise.all([
    page.waitForURL((url) => url.pathname !== '/login'),
    page.click('#login-form button[type="submit"]'),
  ])
}

/**
 * Types a TOTP code into the 2FA prompt. `ahead` uses the next 30 s window (the server accepts
 * ±30 s and refuses a window that was already used, e.g. right after enabling 2FA).
 */
export async function passTwoFactor(page: Page, secret: string, { ahead = false } = {}) {
  await page.waitForURL('**/login/2fa')
  const epoch = Math.floor(Date.now() / 1000) + (ahead ? 30 : 0)
  await page.fill('#field-code', await generate({ secret, epoch }))
  await Promise.all([
    page.waitForURL((url) => url.pathname !== '/login/2fa'),
    page.click('#two-factor-form button[type="submit"]'),
  ])
}
