import { randomInt } from 'node:crypto'
import { test } from '@japa/runner'
import { generate } from 'otplib'
import testUtils from '@adonisjs/core/services/test_utils'
import {
  LOGIN_MAX_FAILURES,
  LOGIN_MAX_FAILURES_PER_IP,
  KNOWN_DEVICE_COOKIE,
} from '#accounts/services/login_service'
import type User from '#accounts/models/user'
import { makeUser, TEST_PASSWORD } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { auditMark, auditSince } from '#tests/support/audit'

/** Addresses no other test or run uses: the limiter may live in Redis, which outlives runs. */
function freshIp() {
  return `198.19.${randomInt(0, 255)}.${randomInt(1, 254)}`
}

function login(client: any, email: string, password: string, ip: string, device?: string) {
  const request = client
    .post('/login')
    .header('X-Forwarded-For', ip)
    .form({ email, password })
    .withCsrfToken()
    .redirects(0)
  return device ? request.withEncryptedCookie(KNOWN_DEVICE_COOKIE, device) : request
}

async function lockAccount(client: any, user: User) {
  for (let attempt = 0; attempt < LOGIN_MAX_FAILURES; attempt++) {
    ;(await login(client, user.email, 'wrong-password-1', freshIp())).assertStatus(302)
  }
}

/** A device cookie as the browser keeps it after a successful login. */
async function knownDeviceOf(client: any, user: User) {
  const response = await login(client, user.email, TEST_PASSWORD, freshIp())
  response.assertHeader('location', '/app')
  const cookie = response.cookie(KNOWN_DEVICE_COOKIE)
  if (!cookie?.value) throw new Error('no device cookie after a successful login')
  return cookie.value
}

const LOCKED = /Zu viele fehlgeschlagene Anmeldungen/

/**
 * Failures count per account (from any IP) and per IP (for any account) separately, as the TOMs
 * page says; a device that logged in before is exempt from the account's lock, so an attacker
 * cannot lock the owner out, but not from an IP's lock.
 */
test.group('Login lockout per account and per IP', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('failures from many IPs lock the account', async ({ client, assert }) => {
    const user = await makeUser('member')
    await lockAccount(client, user)
    const refused = await login(client, user.email, TEST_PASSWORD, freshIp())
    assert.match(refused.flashMessage('errorsBag.email'), LOCKED)
    assert.notProperty(refused.session(), 'auth_web')
  })

  test('failures for many accounts from one IP lock the IP, not the accounts', async ({
    client,
    assert,
  }) => {
    assert.equal(LOGIN_MAX_FAILURES_PER_IP, 20)
    const ip = freshIp()
    for (let attempt = 0; attempt < LOGIN_MAX_FAILURES_PER_IP; attempt++) {
      ;(
        await login(
          client,
          `spray-${attempt}-${randomInt(1e9)}@example.test`,
          'wrong-password-1',
          ip
        )
      ).assertStatus(302)
    }
    const user = await makeUser('member')
    const refused = await login(client, user.email, TEST_PASSWORD, ip)
    assert.match(refused.flashMessage('errorsBag.email'), LOCKED)

    const elsewhere = await login(client, user.email, TEST_PASSWORD, freshIp())
    elsewhere.assertHeader('location', '/app')
  })

  test('a known device logs in while the account is locked, but not from a locked IP', async ({
    client,
    assert,
  }) => {
    const user = await makeUser('owner')
    const device = await knownDeviceOf(client, user)
    await lockAccount(client, user)
    assert.match(
      (await login(client, user.email, TEST_PASSWORD, freshIp())).flashMessage('errorsBag.email'),
      LOCKED
    )

    const known = await login(client, user.email, TEST_PASSWORD, freshIp(), device)
    known.assertHeader('location', '/app')
    known.assertSession('auth_web', user.id)

    // Another account's device cookie does not help
    const other = await makeUser('member')
    const otherDevice = await knownDeviceOf(client, other)
    await lockAccount(client, user)
    assert.match(
      (await login(client, user.email, TEST_PASSWORD, freshIp(), otherDevice)).flashMessage(
        'errorsBag.email'
      ),
      LOCKED
    )

    // An IP's lock holds for known devices too
    const ip = freshIp()
    for (let attempt = 0; attempt < LOGIN_MAX_FAILURES_PER_IP; attempt++) {
      await login(client, `spray-${attempt}-${randomInt(1e9)}@example.test`, 'wrong-password-1', ip)
    }
    assert.match(
      (await login(client, user.email, TEST_PASSWORD, ip, device)).flashMessage('errorsBag.email'),
      LOCKED
    )
  })

  test("wrong 2FA codes lock the account's second step from any IP, audited", async ({
    client,
    assert,
  }) => {
    const user = await makeUser('member')
    const secret = await enableTwoFactor(user)
    const mark = await auditMark()

    const passwordStep = async (ip: string) => {
      const response = await login(client, user.email, TEST_PASSWORD, ip)
      response.assertHeader('location', '/login/2fa')
      return response.session()
    }
    const codeStep = (session: any, code: string, ip: string) =>
      client
        .post('/login/2fa')
        .header('X-Forwarded-For', ip)
        .withSession(session)
        .form({ code })
        .withCsrfToken()
        .redirects(0)

    for (let attempt = 0; attempt < LOGIN_MAX_FAILURES; attempt++) {
      const ip = freshIp()
      ;(await codeStep(await passwordStep(ip), '000000', ip)).assertStatus(302)
    }
    const ip = freshIp()
    const refused = await codeStep(await passwordStep(ip), await generate({ secret }), ip)
    assert.match(refused.flashMessage('errorsBag.code') as unknown as string, LOCKED)
    assert.notProperty(refused.session(), 'auth_web')
    const locked = await auditSince(mark)
      .where('action', 'auth.2fa.locked')
      .where('actor_id', user.id)
      .first()
    assert.isNotNull(locked, 'the 2FA lock is audited')
  })
})
