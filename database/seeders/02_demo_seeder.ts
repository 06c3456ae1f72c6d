import { DateTime } from 'luxon'
import { BaseSeeder } from '@adonisjs/lucid/seeders'
import Company from '#accounts/models/company'
import User from '#accounts/models/user'
import Role from '#accounts/models/role'

export const DEMO_PASSWORD = 'FluffyDemo2026!'
export const DEMO_LOGINS = [
  { email: 'owner@demo.fluffycall.test', role: 'owner', name: 'Olga Owner', note: 'customer, owner of Demo GmbH' },
  { email: 'member@demo.fluffycall.test', role: 'member', name: 'Max Member', note: 'customer, member of Demo GmbH' },
  { email: 'admin@fluffycall.test', role: 'superadmin', name: 'Ada Admin', note: 'staff superadmin, sets up 2FA at first login' },
] as const

/** Demo data for a newcomer's first start; never in production. Safe to run twice. */
export default class DemoSeeder extends BaseSeeder {
  static environment = ['development']

  async run() {
    const company = await Company.firstOrCreate(
      { legalName: 'Demo GmbH' },
      {
        legalForm: 'GmbH',
        country: 'DE',
        vatId: 'DE123456789',
        registerEntry: 'Amtsgericht Berlin-Charlottenburg HRB 000000',
        billingStreet: 'Musterstraße 1',
        billingPostalCode: '10115',
        billingCity: 'Berlin',
        billingCountry: 'DE',
        privacyContactName: 'Dana Datenschutz',
        privacyContactEmail: 'datenschutz@demo.fluffycall.test',
        status: 'active',
        dataResidency: 'eu_only',
        region: 'eu',
        approvedAt: DateTime.utc(),
      }
    )
    for (const login of DEMO_LOGINS) {
      const role = await Role.findByOrFail('name', login.role)
      const staff = role.scope === 'staff'
      await User.firstOrCreate(
        { email: login.email },
        {
          companyId: staff ? null : company.id,
          roleId: role.id,
          isStaff: staff,
          fullName: login.name,
          password: DEMO_PASSWORD,
          locale: 'de',
        }
      )
    }
    const width = Math.max(...DEMO_LOGINS.map((login) => login.email.length))
    console.info(`Demo logins (password ${DEMO_PASSWORD}):`)
    for (const login of DEMO_LOGINS) console.info(`  ${login.email.padEnd(width)}  ${login.note}`)
  }
}
