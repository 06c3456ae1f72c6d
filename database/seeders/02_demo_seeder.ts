import { DateTime } from 'luxon'
import { BaseSeeder } from '@adonisjs/lucid/seeders'
import app from '@adonisjs/core/services/app'
import DpaService from '#privacy/dpa/dpa_service'
import Company from '#accounts/models/company'
import User from '#accounts/models/user'
import Role from '#accounts/models/role'
import CarrierState from '#calls/models/carrier_state'
import CarrierRoute from '#calls/models/carrier_route'
import PhoneNumber from '#calls/models/phone_number'
import PriceList from '#billing/models/price_list'
import PriceListVersion from '#billing/models/price_list_version'
import PriceListRate from '#billing/models/price_list_rate'

export const DEMO_PASSWORD = 'FluffyDemo2026!'
export const DEMO_LOGINS = [
  {
    email: 'owner@demo.fluffycall.test',
    role: 'owner',
    name: 'Olga Owner',
    note: 'customer, owner of Demo GmbH',
  },
  {
    email: 'member@demo.fluffycall.test',
    role: 'member',
    name: 'Max Member',
    note: 'customer, member of Demo GmbH',
  },
  {
    email: 'admin@fluffycall.test',
    role: 'superadmin',
    name: 'Ada Admin',
    note: 'staff superadmin, sets up 2FA at first login',
  },
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
    await this.#telephony(company)
    await seedStandardPriceList()
    await this.#dpa(company)
    const width = Math.max(...DEMO_LOGINS.map((login) => login.email.length))
    console.info(`Demo logins (password ${DEMO_PASSWORD}):`)
    for (const login of DEMO_LOGINS) console.info(`  ${login.email.padEnd(width)}  ${login.note}`)
    console.info(
      'Web phone: dial *43 for the echo test (answered by FluffyCall itself, no carrier needed).'
    )
  }

  /** The owner has accepted the current DPA (recorded like an acceptance in the customer area). */
  async #dpa(company: Company) {
    const dpa = await app.container.make(DpaService)
    if ((await dpa.status(company)).state === 'accepted') return
    const owner = await User.findByOrFail('email', 'owner@demo.fluffycall.test')
    const version = dpa.versions.current(DateTime.utc()).version
    await dpa.accept(company, owner, { ip: null, locale: 'de', version })
  }

  /**
   * The loopback carrier (LOCAL_CARRIER_PORT, e.g. a sipp UAS) active on the default route, and
   * two demo numbers of Demo GmbH held there, one of them the member's.
   */
  async #telephony(company: Company) {
    await CarrierState.updateOrCreate(
      { carrierName: 'local' },
      { enabled: true, lifecycle: 'active', activatedAt: DateTime.utc() }
    )
    await CarrierRoute.firstOrCreate(
      { region: 'eu', prefix: '', carrierName: 'local' },
      { priority: 1, weight: 100 }
    )
    const member = await User.findByOrFail('email', 'member@demo.fluffycall.test')
    for (const [number, userId] of [
      ['+4930901820', null],
      ['+4930901821', member.id],
    ] as const) {
      await PhoneNumber.firstOrCreate(
        { number },
        { carrierName: 'local', companyId: company.id, userId, assignedAt: DateTime.utc() }
      )
    }
  }
}

/**
 * The standard price list (all customers without their own), valid since 1 January 2026, so
 * demo calls show a price (amounts in 1/10,000 cent). Also the call setup benchmark's: its calls
 * are priced as production's.
 */
export async function seedStandardPriceList() {
  const list = await PriceList.firstOrCreate({ companyId: null }, { name: 'Standard' })
  const version =
    (await PriceListVersion.query()
      .where('price_list_id', list.id)
      .orderBy('valid_from')
      .first()) ??
    (await PriceListVersion.create({
      priceListId: list.id,
      validFrom: DateTime.fromISO('2026-01-01T00:00:00', { zone: 'Europe/Berlin' }).toUTC(),
      seatFeePerMonth: 4_990_000,
      numberFeePerMonth: 1_000_000,
    }))
  const rates = [
    {
      prefix: '',
      destination: 'Alle übrigen Ziele',
      pricePerMinute: 290_000,
      connectionFee: 0,
      firstInterval: 60,
      nextInterval: 60,
    },
    {
      prefix: '49',
      destination: 'Deutschland Festnetz',
      pricePerMinute: 8_900,
      connectionFee: 0,
      firstInterval: 60,
      nextInterval: 1,
    },
    {
      prefix: '4915',
      destination: 'Deutschland Mobilfunk',
      pricePerMinute: 99_000,
      connectionFee: 0,
      firstInterval: 60,
      nextInterval: 1,
    },
    {
      prefix: '4916',
      destination: 'Deutschland Mobilfunk',
      pricePerMinute: 99_000,
      connectionFee: 0,
      firstInterval: 60,
      nextInterval: 1,
    },
    {
      prefix: '4917',
      destination: 'Deutschland Mobilfunk',
      pricePerMinute: 99_000,
      connectionFee: 0,
      firstInterval: 60,
      nextInterval: 1,
    },
  ]
  for (const { prefix, ...values } of rates) {
    await PriceListRate.firstOrCreate({ priceListVersionId: version.id, prefix }, values)
  }
}
