import { randomInt } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import mail from '@adonisjs/mail/services/main'
import PasswordResetToken from '#accounts/models/password_reset_token'
import { RESET_MAX_PER_ADDRESS, RESET_MAX_PER_IP } from '#accounts/services/password_service'
import { makeUser } from '#tests/support/accounts'
import { recordDispatches, runDispatched } from '#tests/support/jobs'
import { lastMailTo } from '#tests/support/mail'

/** An address no other test or run uses: the counters may live in Redis, which outlives runs. */
function freshIp() {
  return `198.18.${randomInt(0, 255)}.${randomInt(1, 254)}`
}

function forgot(client: any, email: string, ip: string) {
  return client
    .post('/password/forgot')
    .header('X-Forwarded-For', ip)
    .form({ email })
    .withCsrfToken()
    .redirects(0)
}

/** What a visitor can observe of the answer. */
function observable(response: any) {
  return {
    status: response.status(),
    location: response.header('location'),
    notice: response.flashMessage('notice'),
    text: response.text(),
  }
}

function tokenOf(html: string) {
  return html.match(/\/password\/reset\/([A-Za-z0-9_-]+)/)![1]
}

test.group('Password reset: no leaks, limits, newest link only', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('known and unknown addresses get the same answer; the request itself does no mail work', async ({
    client,
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    const fake = mail.fake()
    cleanup(() => mail.restore())
    const user = await makeUser('member')
    const ip = freshIp()

    const known = await forgot(client, user.email, ip)
    const unknown = await forgot(client, `nobody-${randomInt(1e9)}@example.test`, ip)

    assert.deepEqual(observable(known), observable(unknown))
    fake.messages.assertNoneSent()
    assert.lengthOf(
      await PasswordResetToken.query().where('user_id', user.id),
      0,
      'no link made in the request'
    )
    assert.deepEqual(
      dispatched.map((entry) => entry.name),
      ['accounts.password_reset_mail', 'accounts.password_reset_mail'],
      'both handed to the queue alike'
    )
    assert.deepEqual(
      Object.keys(dispatched[0].payload).sort(),
      Object.keys(dispatched[1].payload).sort()
    )
  })

  test('only the newest link works', async ({ client, assert, cleanup }) => {
    const dispatched = await recordDispatches(cleanup)
    const user = await makeUser('member')
    const ip = freshIp()

    await forgot(client, user.email, ip)
    await runDispatched(dispatched)
    const first = tokenOf((await lastMailTo(user.email))!.html)
    await forgot(client, user.email, ip)
    await runDispatched(dispatched)
    const second = tokenOf((await lastMailTo(user.email))!.html)
    assert.notEqual(first, second)

    const old = await client.get(`/password/reset/${first}`).redirects(0)
    old.assertStatus(302)
    old.assertHeader('location', '/password/forgot')
    const newest = await client.get(`/password/reset/${second}`).redirects(0)
    newest.assertStatus(200)
  })

  test('at most 3 links per address an hour, from any IP; the answer stays the same', async ({
    client,
    assert,
    cleanup,
  }) => {
    assert.equal(RESET_MAX_PER_ADDRESS, 3)
    const dispatched = await recordDispatches(cleanup)
    const user = await makeUser('member')

    const answers = []
    for (let attempt = 0; attempt < RESET_MAX_PER_ADDRESS + 2; attempt++) {
      answers.push(observable(await forgot(client, user.email, freshIp())))
    }
    assert.lengthOf(dispatched, RESET_MAX_PER_ADDRESS)
    for (const answer of answers) assert.deepEqual(answer, answers[0])
  })

  test('at most so many requests per IP an hour, whatever the addresses', async ({
    client,
    assert,
    cleanup,
  }) => {
    assert.equal(RESET_MAX_PER_IP, 10)
    const dispatched = await recordDispatches(cleanup)
    const ip = freshIp()

    for (let attempt = 0; attempt < RESET_MAX_PER_IP + 2; attempt++) {
      ;(await forgot(client, `spray-${attempt}-${randomInt(1e9)}@example.test`, ip)).assertStatus(
        302
      )
    }
    assert.lengthOf(dispatched, RESET_MAX_PER_IP)
    // Another IP is not affected
    await forgot(client, `other-${randomInt(1e9)}@example.test`, freshIp())
    assert.lengthOf(dispatched, RESET_MAX_PER_IP + 1)
  })
})
