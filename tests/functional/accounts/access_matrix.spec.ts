import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import router from '@adonisjs/core/services/router'
import testUtils from '@adonisjs/core/services/test_utils'
import type User from '#accounts/models/user'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'

type Subject =
  | 'guest'
  | 'member'
  | 'admin'
  | 'owner'
  | 'superadmin'
  | 'support'
  | 'fraud_analyst'
  | 'privacy_officer'

const CUSTOMERS: Subject[] = ['member', 'admin', 'owner']
const STAFF: Subject[] = ['superadmin', 'support', 'fraud_analyst', 'privacy_officer']
const LOGGED_IN: Subject[] = [...CUSTOMERS, ...STAFF]
const EVERYONE: Subject[] = ['guest', ...LOGGED_IN]
const GUEST: Subject[] = ['guest']
const COMPANY_ADMINS: Subject[] = ['admin', 'owner']
const SUPERADMIN: Subject[] = ['superadmin']

/**
 * Who gets past the access checks of each route (the default roles of the RBAC seed, customers of
 * an active company, staff with 2FA). A new route fails this test until it is entered here.
 * "Allowed" means not refused by middleware or policy; the placeholder request may still be
 * refused by the form's validation or end in 404, which is not the point here.
 */
const EXPECTED: Record<string, Subject[]> = {
  'health.alive': EVERYONE,
  'health.ready': EVERYONE,
  // No session role: a bearer token (METRICS_TOKEN), off in production without one, loopback only in tests.
  'metrics': EVERYONE,
  'locale.update': EVERYONE,
  'home': EVERYONE,
  'signup.create': GUEST,
  'signup.store': GUEST,
  'signup.confirm': GUEST,
  'session.create': GUEST,
  'session.store': GUEST,
  'session.two_factor.show': GUEST,
  'session.two_factor.verify': GUEST,
  'password.forgot': GUEST,
  'password.send': GUEST,
  'password.edit': GUEST,
  'password.update': GUEST,
  'invitations.show': EVERYONE,
  'invitations.accept': EVERYONE,
  'session.destroy': LOGGED_IN,
  'account.security': LOGGED_IN,
  'account.sessions.revoke': LOGGED_IN,
  'account.sessions.revoke_others': LOGGED_IN,
  'account.password': LOGGED_IN,
  'account.two_factor.show': LOGGED_IN,
  'account.two_factor.enable': LOGGED_IN,
  'account.two_factor.disable': LOGGED_IN,
  'customer.dashboard': CUSTOMERS,
  'customer.team': COMPANY_ADMINS,
  'customer.team.invite': COMPANY_ADMINS,
  'customer.team.revoke': COMPANY_ADMINS,
  'customer.team.role': COMPANY_ADMINS,
  'customer.team.step_down': COMPANY_ADMINS,
  'customer.ownership.accept': CUSTOMERS,
  'customer.audit': COMPANY_ADMINS,
  'customer.emergency_location': CUSTOMERS,
  'admin.dashboard': STAFF,
  'admin.calls.figures': STAFF,
  'admin.companies.index': STAFF,
  'admin.companies.show': STAFF,
  'admin.companies.status': SUPERADMIN,
  'admin.roles.index': SUPERADMIN,
  'admin.audit': ['superadmin', 'support', 'privacy_officer'],
  'admin.staff.index': SUPERADMIN,
  'admin.staff.store': SUPERADMIN,
  'admin.staff.role': SUPERADMIN,
  'admin.staff.disabled': SUPERADMIN,
  'admin.numbers.index': ['superadmin', 'support'],
  'admin.numbers.import.create': ['superadmin', 'support'],
  'admin.numbers.import': ['superadmin', 'support'],
  'admin.numbers.assign.create': ['superadmin', 'support'],
  'admin.numbers.assign': ['superadmin', 'support'],
  'admin.numbers.block.create': ['superadmin', 'support'],
  'admin.numbers.block': ['superadmin', 'support'],
  'admin.numbers.release': ['superadmin', 'support'],
  'admin.numbers.destroy': ['superadmin', 'support'],
  'admin.numbers.port_out': ['superadmin', 'support'],
  'admin.numbers.port_out.complete': ['superadmin', 'support'],
  'admin.routes.home': SUPERADMIN,
  'admin.routes.index': SUPERADMIN,
  'admin.routes.store': SUPERADMIN,
  'admin.routes.edit': SUPERADMIN,
  'admin.routes.update': SUPERADMIN,
  'admin.routes.destroy': SUPERADMIN,
  'customer.numbers': COMPANY_ADMINS,
  'customer.numbers.user': COMPANY_ADMINS,
  'customer.numbers.default': COMPANY_ADMINS,
  'customer.numbers.forwarding': COMPANY_ADMINS,
  'customer.numbers.forwarding.update': COMPANY_ADMINS,
  'customer.extensions.update': COMPANY_ADMINS,
  'admin.calls.live': SUPERADMIN,
  'admin.calls.end': SUPERADMIN,
  'admin.calls.quality': SUPERADMIN,
  'customer.phone': CUSTOMERS,
  'customer.phone.credential': CUSTOMERS,
  'customer.phone_settings': CUSTOMERS,
  'customer.phone_settings.update': CUSTOMERS,
  'customer.phone_line': CUSTOMERS,
  'customer.phone_line.update': CUSTOMERS,
  'customer.phone_colleagues': CUSTOMERS,
  'customer.phone_forwarding': CUSTOMERS,
  'customer.phone_forwarding.update': CUSTOMERS,
  'customer.phone_settings.company': ['owner'],
  'customer.phone_settings.presence': ['owner'],
  'customer.devices': CUSTOMERS,
  'customer.devices.store': CUSTOMERS,
  'customer.devices.destroy': CUSTOMERS,
  'customer.devices.locks.lift': COMPANY_ADMINS,
  'customer.devices.encryption': ['owner'],
  'admin.alerts.index': ['superadmin', 'support', 'fraud_analyst'],
  'admin.alerts.show': ['superadmin', 'support', 'fraud_analyst'],
  'admin.sip_locks': ['superadmin', 'support'],
  'admin.sip_locks.lift': ['superadmin', 'support'],
  'admin.fraud.company': ['superadmin', 'fraud_analyst'],
  'admin.fraud.company.update': ['superadmin', 'fraud_analyst'],
  'admin.fraud.prefixes': ['superadmin', 'fraud_analyst'],
  'admin.fraud.prefixes.export': ['superadmin', 'fraud_analyst'],
  'admin.fraud.prefixes.import': ['superadmin', 'fraud_analyst'],
  'admin.fraud.reviews': ['superadmin', 'fraud_analyst'],
  'admin.fraud.reviews.show': ['superadmin', 'fraud_analyst'],
  'admin.fraud.reviews.clear': ['superadmin', 'fraud_analyst'],
  'admin.fraud.reviews.confirm': ['superadmin', 'fraud_analyst'],
  'admin.fraud.reviews.limits': ['superadmin', 'fraud_analyst'],
  'customer.calls': CUSTOMERS,
  'customer.spend': CUSTOMERS,
  'customer.spend.user_caps': COMPANY_ADMINS,
  'admin.carriers.index': SUPERADMIN,
  'admin.carriers.show': SUPERADMIN,
  'admin.carriers.credentials': SUPERADMIN,
  'admin.carriers.enabled': SUPERADMIN,
  'admin.carriers.announce': SUPERADMIN,
  'admin.carriers.activate': SUPERADMIN,
  'admin.carriers.withdraw': SUPERADMIN,
  'customer.sub_processors': CUSTOMERS,
  'customer.sub_processors.object': COMPANY_ADMINS,
  'customer.dpa': CUSTOMERS,
  'customer.dpa.accept': ['owner'],
  'customer.dpa.download': COMPANY_ADMINS,
  'customer.privacy.user': COMPANY_ADMINS,
  'customer.privacy.user.restrict': COMPANY_ADMINS,
  'customer.privacy.user.lift': COMPANY_ADMINS,
  'customer.privacy.user.erase': COMPANY_ADMINS,
  // A user's own rights (Art. 15-21 GDPR); the confirmation link of a new address needs no login
  'customer.privacy.mine': CUSTOMERS,
  'customer.privacy.export': CUSTOMERS,
  'customer.privacy.export.download': CUSTOMERS,
  'customer.privacy.request': CUSTOMERS,
  'customer.account.end': ['owner'],
  'customer.account.end.store': ['owner'],
  'customer.account.end.withdraw': ['owner'],
  'customer.privacy.profile': CUSTOMERS,
  'account.email.confirm': EVERYONE,
  'privacy.statement': EVERYONE,
  'transparency.index': EVERYONE,
  'transparency.sub_processors': EVERYONE,
  'transparency.json': EVERYONE,
  'transparency.toms_json': EVERYONE,
  'transparency.toms': EVERYONE,
  'transparency.transfers': EVERYONE,
  'transparency.sccs': EVERYONE,
  'transparency.annex': EVERYONE,
  'transparency.history': EVERYONE,
  'transparency.feed': EVERYONE,
  'transparency.request.create': EVERYONE,
  'transparency.request.store': EVERYONE,
  'admin.privacy.requests.index': ['superadmin', 'privacy_officer'],
  'admin.privacy.requests.answer': ['superadmin', 'privacy_officer'],
  'admin.privacy.data_requests.index': ['superadmin', 'privacy_officer'],
  'admin.privacy.record': ['superadmin', 'privacy_officer'],
  'admin.privacy.breaches.index': ['superadmin', 'privacy_officer'],
  // billing.manage or privacy.requests.handle
  'admin.privacy.holds.index': ['superadmin', 'privacy_officer'],
  'admin.privacy.holds.store': ['superadmin', 'privacy_officer'],
  'admin.privacy.holds.release': ['superadmin', 'privacy_officer'],
  'admin.privacy.breaches.store': ['superadmin', 'privacy_officer'],
  'admin.privacy.breaches.show': ['superadmin', 'privacy_officer'],
  'admin.privacy.breaches.notify': ['superadmin', 'privacy_officer'],
  'admin.privacy.breaches.authority': ['superadmin', 'privacy_officer'],
  'admin.privacy.breaches.close': ['superadmin', 'privacy_officer'],
  'admin.privacy.record.json': ['superadmin', 'privacy_officer'],
  'admin.privacy.data_requests.store': ['superadmin', 'privacy_officer'],
  'admin.privacy.data_requests.show': ['superadmin', 'privacy_officer'],
  'admin.privacy.data_requests.extend': ['superadmin', 'privacy_officer'],
  'admin.privacy.data_requests.close': ['superadmin', 'privacy_officer'],
  'admin.privacy.data_requests.erase': ['superadmin', 'privacy_officer'],
  'admin.billing.price_lists.index': SUPERADMIN,
  'admin.billing.price_lists.store': SUPERADMIN,
  'admin.billing.price_lists.show': SUPERADMIN,
  'admin.billing.price_lists.versions.store': SUPERADMIN,
  'admin.billing.price_lists.rates.store': SUPERADMIN,
  'admin.billing.price_lists.rates.destroy': SUPERADMIN,
  'admin.billing.price_lists.fees': SUPERADMIN,
  'admin.billing.price_lists.export': SUPERADMIN,
  'admin.billing.price_lists.import': SUPERADMIN,
  'admin.billing.counselling_lines.index': SUPERADMIN,
  'admin.billing.counselling_lines.import': SUPERADMIN,
  'admin.billing.purchase_prices.index': SUPERADMIN,
  'admin.billing.purchase_prices.store': SUPERADMIN,
  'admin.billing.purchase_prices.destroy': SUPERADMIN,
  'admin.billing.invoice_runs.index': SUPERADMIN,
  'admin.billing.invoice_runs.store': SUPERADMIN,
  'admin.billing.invoice_runs.show': SUPERADMIN,
  'admin.billing.invoices.correct': SUPERADMIN,
  'admin.billing.recapitulative_statement': SUPERADMIN,
  // billing.view: the owner by default (the admin role only when a superadmin grants it)
  'customer.invoices': ['owner'],
  'customer.invoices.download': ['owner'],
  'customer.invoices.itemised': ['owner'],
  'customer.payments.details': COMPANY_ADMINS,
  'customer.payments.mandate': COMPANY_ADMINS,
  'customer.payments.transfer': COMPANY_ADMINS,
  'customer.payments.invoice_email': COMPANY_ADMINS,
  'admin.billing.payments.debits.index': SUPERADMIN,
  'admin.billing.payments.debits.store': SUPERADMIN,
  'admin.billing.payments.debits.download': SUPERADMIN,
  'admin.billing.payments.overdue.index': SUPERADMIN,
  'admin.billing.payments.overdue.paid': SUPERADMIN,
  'admin.billing.payments.overdue.returns': SUPERADMIN,
  'admin.billing.payments.overdue.return_file': SUPERADMIN,
  'admin.roles.update': SUPERADMIN,
}

/** Placeholder values: ids that exist nowhere, so an allowed request ends in 404 or a refused form, never a change. */
const PARAMS: Record<string, string> = {
  id: '999999',
  kind: 'pdf',
  year: '2026',
  month: '6',
  userId: '999999',
  versionId: '999999',
  rateId: '999999',
  token: 'no-such-token',
  locale: 'en',
  name: 'no_such_carrier',
  region: 'eu',
  uuid: randomUUID(),
  key: 'no_such_key',
  messageId: 'FC-DD-000000-0',
}

/**
 * How the machinery refuses: 403 (policies, the staff area), the login page with the auth error
 * for visitors, and a silent redirect to /app (guest-only pages) or /admin (staff in the customer area).
 */
function refused(subject: Subject, response: any) {
  if (response.status() === 403) return true
  if (response.status() !== 302) return false
  const flash = response.flashMessages() ?? {}
  if (subject === 'guest') return Boolean(flash.errorsBag?.E_UNAUTHORIZED_ACCESS)
  return ['/app', '/admin'].includes(response.header('location')) && Object.keys(flash).length === 0
}

async function makeSubjects() {
  const company = await makeCompany('active')
  const users: Partial<Record<Subject, User>> = {}
  for (const role of ['member', 'admin', 'owner'] as const)
    users[role] = await makeUser(role, company)
  for (const role of ['superadmin', 'support', 'fraud_analyst', 'privacy_officer'] as const) {
    users[role] = await makeUser(role)
    await enableTwoFactor(users[role]!)
  }
  return users
}

/** Every route and method; the matrix editor last, as saving it empty would change the grants for the routes after it. */
function allRoutes() {
  return Object.values(router.toJSON())
    .flat()
    .flatMap((route) =>
      route.methods
        .filter((method) => method !== 'HEAD')
        .map((method) => ({
          method,
          pattern: route.pattern,
          name: route.name ?? `${method} ${route.pattern}`,
        }))
    )
    .sort(
      (a, b) => Number(a.name === 'admin.roles.update') - Number(b.name === 'admin.roles.update')
    )
}

test.group('Access matrix: every route x every role', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  // About 30 s on a loaded machine, growing with every route: room beyond the suite's default.
  test('each route admits exactly the expected roles', async ({ client, assert }) => {
    const users = await makeSubjects()
    const routes = allRoutes()
    assert.sameMembers(
      routes.map((route) => route.name),
      Object.keys(EXPECTED),
      'every route is in the matrix, and only routes'
    )

    const actual: Record<string, Subject[]> = {}
    for (const route of routes) {
      const url = route.pattern.replace(/:(\w+)/g, (_, name: string) => PARAMS[name] ?? 'x')
      actual[route.name] = []
      for (const subject of EVERYONE) {
        let request = client
          .request(url, route.method as any)
          .redirects(0)
          .withCsrfToken()
        if (subject !== 'guest') request = request.loginAs(users[subject]!)
        if (!refused(subject, await request)) actual[route.name].push(subject)
      }
    }
    for (const [name, expected] of Object.entries(EXPECTED)) {
      assert.sameMembers(actual[name] ?? [], expected, name)
    }
    // Every route × eight subjects: well over a thousand requests on a shared CI machine
  }).timeout(120_000)
})
