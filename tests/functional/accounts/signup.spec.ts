import { randomInt, randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import Company from '#accounts/models/company'
import User from '#accounts/models/user'
import { auditMark, auditSince } from '#tests/support/audit'

/** Sign-ups are limited per IP, and Redis counters outlive runs: each request comes from its own IP. */
function freshIp() {
  return `198.18.${randomInt(0, 255)}.${randomInt(1, 254)}`
}

/** A complete sign-up form: the company, its privacy contact and its owner. */
function signupForm(overrides: Record<string, string | undefined> = {}) {
  const tag = randomUUID().slice(0, 8)
  const form: Record<string, string | undefined> = {
    legal_name: `Signup ${tag} GmbH`,
    legal_form: 'GmbH',
    country: 'DE',
    vat_id: 'DE123456789',
    register_entry: '',
    billing_street: 'Musterstraße 12',
    billing_postal_code: '10115',
    billing_city: 'Berlin',
    data_residency: 'eu_only',
    privacy_contact_name: 'Dana Datenschutz',
    privacy_contact_email: `privacy-${tag}@example.test`,
    full_name: 'Olga Owner',
    email: `owner-${tag}@example.test`,
    password: 'Sign-up-Passw0rd',
    password_confirmation: 'Sign-up-Passw0rd',
    business_confirmation: 'on',
    ...overrides,
  }
  return Object.fromEntries(
    Object.entries(form).filter(([, value]) => value !== undefined)
  ) as Record<string, string>
}

async function countRows() {
  const companies = await Company.query().count('* as total').first()
  const users = await User.query().count('* as total').first()
  return { companies: Number(companies!.$extras.total), users: Number(users!.$extras.total) }
}

/** Audit entries of the running test are those after this mark. */
let mark = 0

test.group('Company sign-up', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    mark = await auditMark()
  })

  test('a company signs up with its data and owner: pending company, owner awaiting confirmation, audited', async ({
    client,
    assert,
  }) => {
    const form = signupForm({ vat_id: 'DE 123.456.789' })
    const response = await client
      .post('/signup')
      .header('X-Forwarded-For', freshIp())
      .form(form)
      .withCsrfToken()
      .redirects(0)

    response.assertStatus(302)
    response.assertHeader('location', '/login')
    assert.notProperty(
      response.session(),
      'auth_web',
      'logged in only through the mailed link (signup_leak.spec.ts)'
    )

    const owner = await User.findByOrFail('email', form.email)
    const company = await Company.findOrFail(owner.companyId!)
    assert.equal(company.status, 'pending')
    assert.equal(company.legalName, form.legal_name)
    assert.equal(company.legalForm, 'GmbH')
    assert.equal(company.vatId, 'DE123456789', 'the VAT ID is stored normalised')
    assert.equal(company.billingCity, 'Berlin')
    assert.equal(company.privacyContactEmail, form.privacy_contact_email)
    assert.equal(company.dataResidency, 'eu_only')
    assert.isNull(company.approvedAt)

    await owner.load('role')
    assert.equal(owner.role.name, 'owner')
    assert.isFalse(owner.isStaff)
    assert.notEqual(owner.password, form.password, 'the password is stored hashed')

    assert.isTrue(owner.awaitingConfirmation)

    const entry = await auditSince(mark)
      .where('action', 'company.signed_up')
      .where('company_id', company.id)
      .where('actor_id', owner.id)
      .first()
    assert.isNotNull(entry)
  })

  test('a consumer-style sign-up (only name, email, password) is refused and creates nothing', async ({
    client,
    assert,
  }) => {
    const before = await countRows()
    const email = `consumer-${randomUUID().slice(0, 8)}@example.test`
    const response = await client
      .post('/signup')
      .form({
        full_name: 'Carla Consumer',
        email,
        password: 'Consumer-Passw0rd',
        password_confirmation: 'Consumer-Passw0rd',
      })
      .withCsrfToken()
      .redirects(0)

    response.assertStatus(302)
    const errors = response.flashMessage('inputErrorsBag') as Record<string, string[]>
    assert.isObject(errors)
    for (const field of [
      'legal_name',
      'legal_form',
      'country',
      'vat_id',
      'billing_street',
      'billing_postal_code',
      'billing_city',
      'privacy_contact_name',
      'privacy_contact_email',
      'business_confirmation',
    ]) {
      assert.property(errors, field, `expected a validation error for ${field}`)
      assert.isNotEmpty(errors[field])
    }
    assert.notProperty(errors, 'email')
    assert.notProperty(errors, 'full_name')

    assert.deepEqual(await countRows(), before)
    assert.isNull(await User.findBy('email', email))
  })

  test('a VAT ID in the wrong format for the country is refused', async ({ client, assert }) => {
    const before = await countRows()
    const form = signupForm({ vat_id: 'DE12345' })
    const response = await client
      .post('/signup')
      .header('X-Forwarded-For', freshIp())
      .form(form)
      .withCsrfToken()
      .redirects(0)

    response.assertStatus(302)
    assert.notEqual(response.header('location'), '/app')
    const errors = response.flashMessage('inputErrorsBag') as Record<string, string[]>
    assert.property(errors, 'vat_id')
    assert.deepEqual(Object.keys(errors), ['vat_id'])
    assert.deepEqual(await countRows(), before)
  })

  test('a VAT ID of another country than the chosen one is refused', async ({ client, assert }) => {
    const form = signupForm({ country: 'AT', vat_id: 'DE123456789' })
    const response = await client
      .post('/signup')
      .header('X-Forwarded-For', freshIp())
      .form(form)
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    assert.property(response.flashMessage('inputErrorsBag'), 'vat_id')
    assert.isNull(await User.findBy('email', form.email))
  })

  test('a valid VAT ID for the country passes', async ({ client, assert }) => {
    const form = signupForm({ vat_id: 'DE123456789' })
    const response = await client
      .post('/signup')
      .header('X-Forwarded-For', freshIp())
      .form(form)
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/login')
    assert.isUndefined(response.flashMessage('inputErrorsBag'))
    const owner = await User.findByOrFail('email', form.email)
    const company = await Company.findOrFail(owner.companyId!)
    assert.equal(company.vatId, 'DE123456789')
  })

  test('the confirmation of acting for a business is required', async ({ client, assert }) => {
    const form = signupForm({ business_confirmation: undefined })
    const response = await client
      .post('/signup')
      .header('X-Forwarded-For', freshIp())
      .form(form)
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    const errors = response.flashMessage('inputErrorsBag') as Record<string, string[]>
    assert.deepEqual(Object.keys(errors), ['business_confirmation'])
    assert.isNull(await User.findBy('email', form.email))
  })

  test('either a VAT ID or a commercial register entry is required', async ({ client, assert }) => {
    const neither = signupForm({ vat_id: '', register_entry: '' })
    const refused = await client
      .post('/signup')
      .header('X-Forwarded-For', freshIp())
      .form(neither)
      .withCsrfToken()
      .redirects(0)
    refused.assertStatus(302)
    assert.property(refused.flashMessage('inputErrorsBag'), 'vat_id')
    assert.isNull(await User.findBy('email', neither.email))

    const registerOnly = signupForm({
      vat_id: '',
      register_entry: 'HRB 12345 B, Amtsgericht Charlottenburg',
    })
    const accepted = await client
      .post('/signup')
      .header('X-Forwarded-For', freshIp())
      .form(registerOnly)
      .withCsrfToken()
      .redirects(0)
    accepted.assertStatus(302)
    accepted.assertHeader('location', '/login')
    const owner = await User.findByOrFail('email', registerOnly.email)
    const company = await Company.findOrFail(owner.companyId!)
    assert.equal(company.registerEntry, 'HRB 12345 B, Amtsgericht Charlottenburg')
    assert.isNull(company.vatId)
  })
})
