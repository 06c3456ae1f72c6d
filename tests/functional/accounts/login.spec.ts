import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditEntry from '#accounts/models/audit_entry'
import { makeUser, TEST_PASSWORD } from '#tests/support/accounts'

test.group('Login', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a customer logs in with email and password and lands in the customer area', async ({
    client,
    assert,
  }) => {
    const user = await makeUser('owner')
    const response = await client
      .post('/login')
      .form({ email: user.email, password: TEST_PASSWORD })
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/app')
    const entry = await AuditEntry.query()
      .where('action', 'auth.login.succeeded')
      .where('actor_id', user.id)
      .first()
    assert.isNotNull(entry)
  })

  test('a wrong password is refused with a message next to the email field', async ({
    client,
    assert,
  }) => {
    const user = await makeUser('member')
    const response = await client
      .post('/login')
      .form({ email: user.email, password: 'not-the-password' })
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    response.assertFlashMessage('errorsBag', { email: 'E-Mail-Adresse oder Passwort ist falsch.' })
    const entry = await AuditEntry.query()
      .where('action', 'auth.login.failed')
      .where('actor_id', user.id)
      .first()
    assert.isNotNull(entry)
  })
})
