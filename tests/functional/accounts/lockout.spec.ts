import { randomInt } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import { LOGIN_MAX_FAILURES } from '#accounts/services/login_service'
import { makeUser, TEST_PASSWORD } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'

/** Fresh IPs per test: failures also count per IP, and Redis outlives runs. */
let IP_A = ''
let IP_B = ''

/**
 * Every test uses fresh users (makeUser tags emails per run), so the limiter's state, in memory or
 * in Redis, never leaks from one test or run into another.
 */
function login(client: any, email: string, password: string, ip: string) {
  return client
    .post('/login')
    .header('X-Forwarded-For', ip)
    .form({ email, password })
    .withCsrfToken()
    .redirects(0)
}

async function failFiveTimes(client: any, email: string, ip: string) {
  for (let attempt = 1; attempt <= LOGIN_MAX_FAILURES; attempt++) {
    const response = await login(client, email, 'wrong-password-1', ip)
    response.assertStatus(302)
    response.assertFlashMessage('errorsBag', { email: 'E-Mail-Adresse oder Passwort ist falsch.' })
  }
}

/** Audit entries of the running test are those after this mark. */
let mark = 0

test.group('Login lockout', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    mark = await auditMark()
    IP_A = `198.18.${randomInt(0, 255)}.${randomInt(1, 254)}`
    IP_B = `198.19.${randomInt(0, 255)}.${randomInt(1, 254)}`
  })

  test('after 5 wrong passwords from one IP even the right password is refused with the lock message', async ({
    client,
    assert,
  }) => {
    assert.equal(LOGIN_MAX_FAILURES, 5)
    const user = await makeUser('owner')
    await failFiveTimes(client, user.email, IP_A)

    const response = await login(client, user.email, TEST_PASSWORD, IP_A)
    response.assertStatus(302)
    assert.notEqual(response.header('location'), '/app')
    assert.notProperty(response.session(), 'auth_web')
    const message = response.flashMessage('errorsBag.email') as string
    assert.match(message, /Zu viele fehlgeschlagene Anmeldungen/)
    assert.match(message, /\b15 Minuten\b/, 'the message names the minutes left')

    const locked = await auditSince(mark)
      .where('action', 'auth.login.locked')
      .where('actor_id', user.id)
      .firstOrFail()
    assert.equal(locked.ip, IP_A)
    const failures = await auditSince(mark)
      .where('action', 'auth.login.failed')
      .where('actor_id', user.id)
    assert.lengthOf(failures, LOGIN_MAX_FAILURES)
    assert.isTrue(failures.every((entry) => entry.ip === IP_A))
    const successes = await auditSince(mark)
      .where('action', 'auth.login.succeeded')
      .where('actor_id', user.id)
    assert.lengthOf(successes, 0)
  })

  test('four failures do not lock: the right password still logs in', async ({ client }) => {
    const user = await makeUser('member')
    for (let attempt = 1; attempt < LOGIN_MAX_FAILURES; attempt++) {
      ;(await login(client, user.email, 'wrong-password-1', IP_A)).assertStatus(302)
    }
    const response = await login(client, user.email, TEST_PASSWORD, IP_A)
    response.assertStatus(302)
    response.assertHeader('location', '/app')
  })

  test('the locked account is refused from another IP too (failures count per account; see lockout_scopes for known devices)', async ({
    client,
    assert,
  }) => {
    const user = await makeUser('owner')
    await failFiveTimes(client, user.email, IP_A)

    const response = await login(client, user.email, TEST_PASSWORD, IP_B)
    response.assertStatus(302)
    assert.match(response.flashMessage('errorsBag.email'), /Zu viele/)
    assert.notProperty(response.session(), 'auth_web')
    const locked = await auditSince(mark)
      .where('action', 'auth.login.locked')
      .where('actor_id', user.id)
      .firstOrFail()
    assert.equal(locked.ip, IP_B)
    assert.deepEqual(locked.details, { by: 'account' })
  })

  test('another account still logs in from the locked IP', async ({ client, assert }) => {
    const locked = await makeUser('owner')
    const other = await makeUser('member')
    await failFiveTimes(client, locked.email, IP_A)
    const refused = await login(client, locked.email, TEST_PASSWORD, IP_A)
    assert.match(refused.flashMessage('errorsBag.email'), /Zu viele/)

    const response = await login(client, other.email, TEST_PASSWORD, IP_A)
    response.assertStatus(302)
    response.assertHeader('location', '/app')
    response.assertSession('auth_web', other.id)
  })
})
