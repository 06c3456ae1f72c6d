import { randomInt, randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import hash from '@adonisjs/core/services/hash'
import mail from '@adonisjs/mail/services/main'
import Company from '#accounts/models/company'
import User from '#accounts/models/user'
import { makeUser, TEST_PASSWORD } from '#tests/support/accounts'
import { SIGNUP_MAILS_PER_ADDRESS, SIGNUPS_PER_IP } from '#accounts/services/company_service'
import { recordDispatches, runDispatched } from '#tests/support/jobs'
import { lastMailTo } from '#tests/support/mail'

const SIGNUP_SUBJECT = 'Ihre Registrierung bei FluffyCall / Your FluffyCall sign-up'

function signupForm(email: string) {
  const tag = randomUUID().slice(0, 8)
  return {
    legal_name: `Signup ${tag} GmbH`,
    legal_form: 'GmbH',
    country: 'DE',
    vat_id: 'DE123456789',
    billing_street: 'Musterstraße 12',
    billing_postal_code: '10115',
    billing_city: 'Berlin',
    data_residency: 'eu_only',
    privacy_contact_name: 'Dana Datenschutz',
    privacy_contact_email: `privacy-${tag}@example.test`,
    full_name: 'Olga Owner',
    email,
    password: 'Sign-up-Passw0rd',
    password_confirmation: 'Sign-up-Passw0rd',
    business_confirmation: 'on',
  }
}

function freshIp() {
  return `198.18.${randomInt(0, 255)}.${randomInt(1, 254)}`
}

function signUp(client: any, email: string, ip = freshIp()) {
  return client
    .post('/signup')
    .header('X-Forwarded-For', ip)
    .form(signupForm(email))
    .withCsrfToken()
    .redirects(0)
}

function observable(response: any) {
  return {
    status: response.status(),
    location: response.header('location'),
    notice: response.flashMessage('notice'),
    errors: response.flashMessage('errorsBag'),
    inputErrors: response.flashMessage('inputErrorsBag'),
    loggedIn: 'auth_web' in response.session(),
  }
}

/** Sign-up must not tell anyone whether an address has an account. */
test.group('Sign-up does not reveal accounts', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a taken and a free address get the same answer; the request does no mail work', async ({
    client,
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    const fake = mail.fake()
    cleanup(() => mail.restore())
    const existing = await makeUser('member')

    const taken = await signUp(client, existing.email)
    const free = await signUp(client, `owner-${randomUUID().slice(0, 8)}@example.test`)

    assert.deepEqual(observable(taken), observable(free))
    assert.isFalse(observable(free).loggedIn)
    fake.messages.assertNoneSent()
    assert.deepEqual(
      dispatched.map((entry) => entry.name),
      ['accounts.signup_mail', 'accounts.signup_mail']
    )
    assert.deepEqual(
      Object.keys(dispatched[0].payload).sort(),
      Object.keys(dispatched[1].payload).sort()
    )
  })

  test('a new owner confirms the address through the mailed link, then is logged in', async ({
    client,
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    const email = `owner-${randomUUID().slice(0, 8)}@example.test`
    ;(await signUp(client, email)).assertStatus(302)
    const owner = await User.findByOrFail('email', email)
    assert.equal((await Company.findOrFail(owner.companyId!)).status, 'pending')

    // Before the confirmation the password alone does not log in
    const early = await client
      .post('/login')
      .form({ email, password: 'Sign-up-Passw0rd' })
      .withCsrfToken()
      .redirects(0)
    assert.notProperty(early.session(), 'auth_web')

    await runDispatched(dispatched)
    const sent = await lastMailTo(email)
    assert.equal(sent?.subject, SIGNUP_SUBJECT)
    const link = sent!.html.match(/\/signup\/confirm\/([A-Za-z0-9_-]+)/)
    assert.isNotNull(link, 'the mail holds the confirmation link')

    const confirmed = await client.get(`/signup/confirm/${link![1]}`).redirects(0)
    confirmed.assertStatus(302)
    confirmed.assertHeader('location', '/app')
    confirmed.assertSession('auth_web', owner.id)

    const later = await client
      .post('/login')
      .form({ email, password: 'Sign-up-Passw0rd' })
      .withCsrfToken()
      .redirects(0)
    later.assertHeader('location', '/app')
  })

  test('the holder of a taken address gets a note without a link; nothing is created or changed', async ({
    client,
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    const existing = await makeUser('member')
    const companies = Number((await Company.query().count('* as total').first())!.$extras.total)

    ;(await signUp(client, existing.email)).assertStatus(302)
    await runDispatched(dispatched)

    const sent = await lastMailTo(existing.email)
    assert.equal(sent?.subject, SIGNUP_SUBJECT)
    assert.notMatch(sent!.html, /\/signup\/confirm\//)
    assert.equal(
      Number((await Company.query().count('* as total').first())!.$extras.total),
      companies
    )
    const unchanged = await User.findOrFail(existing.id)
    assert.isTrue(await hash.verify(unchanged.password, TEST_PASSWORD))
  })

  test('sign-up mails are limited per address and per IP; the answer stays the same', async ({
    client,
    assert,
    cleanup,
  }) => {
    assert.equal(SIGNUP_MAILS_PER_ADDRESS, 3)
    assert.equal(SIGNUPS_PER_IP, 10)
    const dispatched = await recordDispatches(cleanup)
    const existing = await makeUser('member')

    const answers = []
    for (let attempt = 0; attempt < SIGNUP_MAILS_PER_ADDRESS + 2; attempt++) {
      answers.push(observable(await signUp(client, existing.email)))
    }
    assert.lengthOf(
      dispatched,
      SIGNUP_MAILS_PER_ADDRESS,
      'the holder of the address gets at most 3 notes'
    )
    for (const answer of answers) assert.deepEqual(answer, answers[0])

    dispatched.splice(0)
    const ip = freshIp()
    for (let attempt = 0; attempt < SIGNUPS_PER_IP + 2; attempt++) {
      await signUp(client, `spray-${attempt}-${randomUUID().slice(0, 8)}@example.test`, ip)
    }
    assert.lengthOf(dispatched, SIGNUPS_PER_IP)
  })
})
