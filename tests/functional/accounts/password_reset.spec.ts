import { test } from '@japa/runner'
import hash from '@adonisjs/core/services/hash'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditEntry from '#accounts/models/audit_entry'
import User from '#accounts/models/user'
import { makeUser } from '#tests/support/accounts'
import { lastMailTo } from '#tests/support/mail'
import { drainJobs } from '#tests/support/jobs'

const NEW_PASSWORD = 'A-brand-new-passphrase-7'

test.group('Password reset', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a reset link by email sets a new password once', async ({ client, assert }) => {
    const user = await makeUser('member')
    await client.post('/password/forgot').form({ email: user.email }).withCsrfToken().redirects(0)
    await drainJobs()

    const mail = await lastMailTo(user.email)
    assert.isNotNull(mail, 'a reset mail was written')
    const token = mail!.html.match(/\/password\/reset\/([A-Za-z0-9_-]+)/)?.[1]
    assert.isString(token)

    const page = await client.get(`/password/reset/${token}`)
    page.assertStatus(200)

    const reset = await client
      .post('/password/reset')
      .form({ token, password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD })
      .withCsrfToken()
      .redirects(0)
    reset.assertHeader('location', '/login')
    await user.refresh()
    assert.isTrue(await hash.verify(user.password, NEW_PASSWORD))
    assert.exists(
      await AuditEntry.query()
        .where('action', 'auth.password.reset')
        .where('actor_id', user.id)
        .first()
    )

    const again = await client
      .post('/password/reset')
      .form({
        token,
        password: 'Yet-another-pass-99',
        password_confirmation: 'Yet-another-pass-99',
      })
      .withCsrfToken()
      .redirects(0)
    again.assertHeader('location', '/password/forgot')
    await user.refresh()
    assert.isTrue(await hash.verify(user.password, NEW_PASSWORD), 'a spent link changes nothing')
  })

  test('an unknown address gets the same answer and no mail', async ({ client, assert }) => {
    const response = await client
      .post('/password/forgot')
      .form({ email: 'nobody-here@example.test' })
      .withCsrfToken()
      .redirects(0)
    response.assertHeader('location', '/login')
    response.assertFlashMessage(
      'notice',
      'Wenn die Adresse zu einem Konto gehört, haben wir einen Link gesendet.'
    )
    await drainJobs()
    assert.isNull(await lastMailTo('nobody-here@example.test'))
  })

  test('a weak new password is refused next to the field', async ({ client, assert }) => {
    const user = await makeUser('member')
    await client.post('/password/forgot').form({ email: user.email }).withCsrfToken().redirects(0)
    await drainJobs()
    const token = (await lastMailTo(user.email))!.html.match(
      /\/password\/reset\/([A-Za-z0-9_-]+)/
    )![1]
    const response = await client
      .post('/password/reset')
      .form({ token, password: 'short', password_confirmation: 'short' })
      .withCsrfToken()
      .redirects(0)
    response.assertFlashMessage('inputErrorsBag', { password: ['Mindestens 12 Zeichen.'] })
    const unchanged = await User.findOrFail(user.id)
    assert.equal(unchanged.password, user.password)
  })
})

test.group('Emergency location', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('defaults to the company address and can be set per user', async ({ client, assert }) => {
    const user = await makeUser('member')
    assert.deepEqual(await user.emergencyLocation(), {
      street: 'Teststraße 1',
      postalCode: '10115',
      city: 'Berlin',
      country: 'DE',
    })
    await client
      .put('/app/emergency-location')
      .form({
        emergency_street: 'Hafenweg 9',
        emergency_postal_code: '20457',
        emergency_city: 'Hamburg',
        emergency_country: 'de',
      })
      .withCsrfToken()
      .loginAs(user)
      .redirects(0)
    await user.refresh()
    assert.deepEqual(await user.emergencyLocation(), {
      street: 'Hafenweg 9',
      postalCode: '20457',
      city: 'Hamburg',
      country: 'DE',
    })
  })

  test('a street without postal code and city is refused', async ({ client }) => {
    const user = await makeUser('member')
    const response = await client
      .put('/app/emergency-location')
      .form({ emergency_street: 'Hafenweg 9' })
      .withCsrfToken()
      .loginAs(user)
      .redirects(0)
    response.assertStatus(302)
    response.assertFlashMessage('inputErrorsBag', {
      emergency_postal_code: ['Bitte ausfüllen.'],
      emergency_city: ['Bitte ausfüllen.'],
      emergency_country: ['Bitte ausfüllen.'],
    })
  })
})
