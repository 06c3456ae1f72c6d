import { randomInt } from 'node:crypto'
import { test } from '@japa/runner'
import { generate } from 'otplib'
import testUtils from '@adonisjs/core/services/test_utils'
import type User from '#accounts/models/user'
import { makeUser, TEST_PASSWORD } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { auditMark, auditSince } from '#tests/support/audit'
import { LOGIN_MAX_FAILURES } from '#accounts/services/login_service'

/** One IP per test: wrong proofs also count per IP, and Redis outlives runs. */
let ip = ''

function disable(client: any, user: User, form: Record<string, string>) {
  return client
    .delete('/account/2fa')
    .header('X-Forwarded-For', ip)
    .form(form)
    .withCsrfToken()
    .loginAs(user)
    .redirects(0)
}

/** A stolen session alone must not be enough to remove the second factor. */
test.group('Turning two-factor login off', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => {
    ip = `198.19.${randomInt(0, 255)}.${randomInt(1, 254)}`
  })

  test('the session alone, or a wrong password, leaves 2FA on', async ({ client, assert }) => {
    const user = await makeUser('member')
    await enableTwoFactor(user)
    const mark = await auditMark()

    const forms: Array<Record<string, string>> = [
      {},
      { current_password: 'not-the-password-1' },
      { code: '000000' },
    ]
    for (const form of forms) {
      const response = await disable(client, user, form)
      response.assertStatus(302)
      assert.notEqual(response.header('location'), '/account/security', JSON.stringify(form))
      await user.refresh()
      assert.isTrue(user.twoFactorEnabled, `still on after ${JSON.stringify(form)}`)
    }
    assert.lengthOf(await auditSince(mark).where('action', 'auth.2fa.disabled'), 0)

    // The page asks for the proof, in words
    const page = await client.get('/account/2fa').loginAs(user)
    page.assertStatus(200)
    assert.include(page.text(), 'name="current_password"')
    assert.include(page.text(), 'aktuellen Passwort oder einem aktuellen Code')
  })

  test('the current password turns it off, audited', async ({ client, assert }) => {
    const user = await makeUser('member')
    await enableTwoFactor(user)
    const mark = await auditMark()

    const response = await disable(client, user, { current_password: TEST_PASSWORD })
    response.assertStatus(302)
    response.assertHeader('location', '/account/security')
    await user.refresh()
    assert.isFalse(user.twoFactorEnabled)
    await auditSince(mark)
      .where('action', 'auth.2fa.disabled')
      .where('actor_id', user.id)
      .firstOrFail()
  })

  test('a current code turns it off', async ({ client, assert }) => {
    const user = await makeUser('owner')
    const secret = await enableTwoFactor(user)

    const response = await disable(client, user, { code: await generate({ secret }) })
    response.assertStatus(302)
    response.assertHeader('location', '/account/security')
    await user.refresh()
    assert.isFalse(user.twoFactorEnabled)
  })

  test('guessing is locked like the login: after 5 wrong proofs even the right password is refused', async ({
    client,
    assert,
  }) => {
    const user = await makeUser('member')
    const secret = await enableTwoFactor(user)
    for (let attempt = 0; attempt < LOGIN_MAX_FAILURES; attempt++) {
      const form: Record<string, string> =
        attempt % 2 ? { code: '000000' } : { current_password: 'not-the-password-1' }
      ;(await disable(client, user, form)).assertStatus(302)
    }
    await disable(client, user, { code: await generate({ secret }) })
    await disable(client, user, { current_password: TEST_PASSWORD })
    await user.refresh()
    assert.isTrue(user.twoFactorEnabled)
  })
})
