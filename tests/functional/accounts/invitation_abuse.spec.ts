import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import mail from '@adonisjs/mail/services/main'
import Invitation from '#accounts/models/invitation'
import type User from '#accounts/models/user'
import {
  INVITES_MAX_PER_ADDRESS,
  INVITES_MAX_PER_COMPANY,
  invitationLimitKeys,
} from '#accounts/services/invitation_service'
import counters from '#core/services/counters'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { recordDispatches, runDispatched } from '#tests/support/jobs'
import { lastMailTo } from '#tests/support/mail'

function invite(client: any, owner: User, email: string) {
  return client
    .post('/app/team/invitations')
    .form({ email, role: 'member' })
    .withCsrfToken()
    .loginAs(owner)
    .redirects(0)
}

function freshAddress(tag = 'invitee') {
  return `${tag}-${randomUUID().slice(0, 8)}@example.test`
}

/** What the inviting admin can observe of the answer. */
function observable(response: any, email: string) {
  return {
    status: response.status(),
    location: response.header('location'),
    notice: String(response.flashMessage('notice') ?? '').replace(email, '<email>'),
    errors: response.flashMessage('errorsBag'),
  }
}

/** Sign-up must not become a way to send mail to anyone, and invitations must not reveal accounts. */
/**
 * Company ids come back after each test's rollback (SQLite), but the counters stay: every test
 * starts and ends with its companies' counters at zero.
 */
async function resetCompanyCounters(from: number) {
  for (let id = from; id < from + 10; id++) await counters.reset(invitationLimitKeys.company(id))
}

test.group('Invitations: abuse and leaks', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    const probe = await makeCompany('active')
    await resetCompanyCounters(probe.id)
    return () => resetCompanyCounters(probe.id)
  })

  test('a pending company may not invite', async ({ client, assert, cleanup }) => {
    const dispatched = await recordDispatches(cleanup)
    const fake = mail.fake()
    cleanup(() => mail.restore())
    const owner = await makeUser('owner', await makeCompany('pending'))
    const email = freshAddress()

    const response = await invite(client, owner, email)
    response.assertStatus(302)
    assert.match(response.flashMessage('errorsBag.email'), /freigeschaltet/)
    assert.isNull(await Invitation.findBy('email', email))
    assert.lengthOf(dispatched, 0)
    fake.messages.assertNoneSent()
  })

  test("an address of another company's user gets the same answer as a new one; no mail work in the request", async ({
    client,
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    const fake = mail.fake()
    cleanup(() => mail.restore())
    const owner = await makeUser('owner', await makeCompany('active'))
    const elsewhere = await makeUser('member', await makeCompany('active'))
    const fresh = freshAddress()

    const known = await invite(client, owner, elsewhere.email)
    const unknown = await invite(client, owner, fresh)
    assert.deepEqual(observable(known, elsewhere.email), observable(unknown, fresh))
    assert.equal(known.header('location'), '/app/team')
    fake.messages.assertNoneSent()
    assert.deepEqual(
      dispatched.map((entry) => entry.name),
      ['accounts.invitation_mail', 'accounts.invitation_mail']
    )

    // The team page lists both alike
    const page = await client.get('/app/team').loginAs(owner)
    assert.include(page.text(), elsewhere.email)
    assert.include(page.text(), fresh)
  })

  test('the mail subject is fixed text, never the company name someone typed', async ({
    client,
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    const company = await makeCompany('active', { legalName: 'Cheap pills at spam.example GmbH' })
    const owner = await makeUser('owner', company)
    const email = freshAddress()

    ;(await invite(client, owner, email)).assertStatus(302)
    await runDispatched(dispatched)
    const sent = await lastMailTo(email)
    assert.isNotNull(sent)
    assert.equal(sent!.subject, 'Einladung zu FluffyCall / Invitation to FluffyCall')
    assert.match(sent!.html, /\/invitations\/[A-Za-z0-9_-]+/)
  })

  test('the owner of an existing address gets no invitation link', async ({
    client,
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    const owner = await makeUser('owner', await makeCompany('active'))
    const elsewhere = await makeUser('member', await makeCompany('active'))

    ;(await invite(client, owner, elsewhere.email)).assertStatus(302)
    await runDispatched(dispatched)
    const sent = await lastMailTo(elsewhere.email)
    if (sent) assert.notMatch(sent.html, /\/invitations\//)
  })

  test('invitations are limited per company and per address', async ({
    client,
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    const owner = await makeUser('owner', await makeCompany('active'))

    for (let index = 0; index < INVITES_MAX_PER_COMPANY; index++) {
      const response = await invite(client, owner, freshAddress('bulk'))
      assert.equal(response.header('location'), '/app/team', `invitation ${index + 1}`)
    }
    const refused = await invite(client, owner, freshAddress('bulk'))
    assert.match(refused.flashMessage('errorsBag.email'), /Zu viele Einladungen/)
    assert.lengthOf(dispatched, INVITES_MAX_PER_COMPANY)

    // One address, invited by several companies
    const target = freshAddress('target')
    dispatched.splice(0)
    for (let index = 0; index < INVITES_MAX_PER_ADDRESS; index++) {
      const other = await makeUser('owner', await makeCompany('active'))
      ;(await invite(client, other, target)).assertHeader('location', '/app/team')
    }
    const another = await makeUser('owner', await makeCompany('active'))
    const tooMany = await invite(client, another, target)
    assert.match(tooMany.flashMessage('errorsBag.email'), /Zu viele Einladungen/)
    assert.lengthOf(dispatched, INVITES_MAX_PER_ADDRESS)
  })
})
