import { test } from '@japa/runner'
import QRCode from 'qrcode'
import { generate } from 'otplib'
import hash from '@adonisjs/core/services/hash'
import testUtils from '@adonisjs/core/services/test_utils'
import type User from '#accounts/models/user'
import TwoFactorService from '#accounts/services/two_factor_service'
import { makeUser, TEST_PASSWORD } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { auditMark, auditSince } from '#tests/support/audit'

const INVALID_CODE = 'Der Code ist ungültig oder abgelaufen.'

/** The password step; its session (with the pending second factor) is carried into the next request. */
async function passwordStep(client: any, user: User) {
  const response = await client
    .post('/login')
    .form({ email: user.email, password: TEST_PASSWORD })
    .withCsrfToken()
    .redirects(0)
  response.assertStatus(302)
  response.assertHeader('location', '/login/2fa')
  return response
}

function codeStep(client: any, session: Record<string, unknown>, code: string) {
  return client.post('/login/2fa').withSession(session).form({ code }).withCsrfToken().redirects(0)
}

/** A six-digit code that is valid in none of the steps the server accepts (now and ±30 s). */
async function wrongCodeFor(secret: string) {
  const now = Math.floor(Date.now() / 1000)
  const valid = new Set(
    await Promise.all(
      [-60, -30, 0, 30, 60].map((offset) => generate({ secret, epoch: now + offset }))
    )
  )
  let candidate = 123456
  while (valid.has(String(candidate).padStart(6, '0'))) candidate += 1
  return String(candidate).padStart(6, '0')
}

/** Audit entries of the running test are those after this mark. */
let mark = 0

test.group('Two-factor login', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    mark = await auditMark()
  })

  test('the password step of a 2FA user leads to the code page without logging in', async ({
    client,
    assert,
  }) => {
    const user = await makeUser('owner')
    await enableTwoFactor(user)

    const step = await passwordStep(client, user)
    assert.notProperty(step.session(), 'auth_web')
    step.assertSession('pending_2fa_user_id', user.id)

    const page = await client.get('/login/2fa').withSession(step.session()).redirects(0)
    page.assertStatus(200)

    const area = await client.get('/app').withSession(step.session()).redirects(0)
    area.assertStatus(302)
    area.assertHeader('location', '/login')
  })

  test('a valid TOTP logs in; the same code a second time is refused (no replay)', async ({
    client,
    assert,
  }) => {
    const user = await makeUser('owner')
    const secret = await enableTwoFactor(user)
    const code = await generate({ secret })

    const first = await passwordStep(client, user)
    const loggedIn = await codeStep(client, first.session(), code)
    loggedIn.assertStatus(302)
    loggedIn.assertHeader('location', '/app')
    loggedIn.assertSession('auth_web', user.id)
    loggedIn.assertSessionMissing('pending_2fa_user_id')
    const area = await client.get('/app').withSession(loggedIn.session()).redirects(0)
    area.assertStatus(200)
    assert.isNotNull(
      await auditSince(mark)
        .where('action', 'auth.login.succeeded')
        .where('actor_id', user.id)
        .first()
    )

    const second = await passwordStep(client, user)
    const replay = await codeStep(client, second.session(), code)
    replay.assertStatus(302)
    assert.notEqual(replay.header('location'), '/app')
    assert.notProperty(replay.session(), 'auth_web')
    replay.assertFlashMessage('errorsBag', { code: INVALID_CODE })
  })

  test('a wrong code is refused and audited', async ({ client, assert }) => {
    const user = await makeUser('member')
    const secret = await enableTwoFactor(user)

    const step = await passwordStep(client, user)
    const response = await codeStep(client, step.session(), await wrongCodeFor(secret))
    response.assertStatus(302)
    assert.notProperty(response.session(), 'auth_web')
    response.assertFlashMessage('errorsBag', { code: INVALID_CODE })
    assert.isNotNull(
      await auditSince(mark).where('action', 'auth.2fa.failed').where('actor_id', user.id).first()
    )
  })

  test('a code page request without the password step is sent back to the login', async ({
    client,
  }) => {
    const response = await client
      .post('/login/2fa')
      .form({ code: '123456' })
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/login')
  })

  test('a recovery code logs in once and is then spent', async ({ client, assert }) => {
    const user = await makeUser('owner')
    await enableTwoFactor(user)
    const recovery = ['abcde-12345', 'fedcb-54321']
    user.recoveryCodes = JSON.stringify(await Promise.all(recovery.map((code) => hash.make(code))))
    await user.save()

    const first = await passwordStep(client, user)
    const loggedIn = await codeStep(client, first.session(), recovery[0])
    loggedIn.assertStatus(302)
    loggedIn.assertHeader('location', '/app')
    loggedIn.assertSession('auth_web', user.id)
    const used = await auditSince(mark)
      .where('action', 'auth.2fa.recovery_code_used')
      .where('actor_id', user.id)
      .firstOrFail()
    assert.deepEqual(used.details, { remaining: 1 })

    const second = await passwordStep(client, user)
    const again = await codeStep(client, second.session(), recovery[0])
    again.assertStatus(302)
    assert.notProperty(again.session(), 'auth_web')
    again.assertFlashMessage('errorsBag', { code: INVALID_CODE })

    await user.refresh()
    assert.lengthOf(JSON.parse(user.recoveryCodes!), 1)
  })
})

test.group('Two-factor set-up', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    mark = await auditMark()
  })

  test('a user enables 2FA with a code for the secret shown on the set-up page', async ({
    client,
    assert,
  }) => {
    const user = await makeUser('owner')
    assert.isFalse(user.twoFactorEnabled)

    const page = await client.get('/account/2fa').loginAs(user).redirects(0)
    page.assertStatus(200)
    const secret = page.text().match(/id="totp-secret">([A-Z2-7]+)</)?.[1]
    assert.isString(secret, 'the set-up page shows the secret in #totp-secret')
    // The QR code encodes exactly the otpauth URI of that secret.
    const qr = page
      .text()
      .match(/id="totp-qr" src="data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)"/)?.[1]
    assert.isString(qr, 'the set-up page shows a QR code')
    const expected = await QRCode.toString(new TwoFactorService().uriFor(user, secret!), {
      type: 'svg',
      errorCorrectionLevel: 'M',
      margin: 2,
    })
    assert.equal(Buffer.from(qr!, 'base64').toString(), expected)

    // A code for another secret is refused.
    const other = new TwoFactorService().newSecret(user).secret
    const refused = await client
      .post('/account/2fa')
      .withSession(page.session())
      .form({ code: await generate({ secret: other }) })
      .withCsrfToken()
      .loginAs(user)
      .redirects(0)
    refused.assertStatus(302)
    refused.assertFlashMessage('errorsBag', { code: INVALID_CODE })
    await user.refresh()
    assert.isFalse(user.twoFactorEnabled)

    const enabled = await client
      .post('/account/2fa')
      .withSession(page.session())
      .form({ code: await generate({ secret: secret! }) })
      .withCsrfToken()
      .loginAs(user)
      .redirects(0)
    enabled.assertStatus(200)
    const codes = enabled.text().match(/\b[0-9a-f]{5}-[0-9a-f]{5}\b/g) ?? []
    assert.lengthOf(new Set(codes), 10, 'ten recovery codes are shown once')

    await user.refresh()
    assert.isTrue(user.twoFactorEnabled)
    assert.equal(new TwoFactorService().openSecret(user.totpSecret!), secret)
    assert.isFalse(user.recoveryCodes!.includes(codes[0]!), 'recovery codes are stored hashed')
    const entry = await auditSince(mark)
      .where('action', 'auth.2fa.enabled')
      .where('actor_id', user.id)
      .first()
    assert.isNotNull(entry)
  })
})
