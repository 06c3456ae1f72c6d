import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import Invitation from '#accounts/models/invitation'
import User from '#accounts/models/user'
import Role from '#accounts/models/role'
import { newSecretToken } from '#core/secret_token'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { lastMailTo } from '#tests/support/mail'
import { auditMark, auditSince } from '#tests/support/audit'
import { drainJobs } from '#tests/support/jobs'

/** Audit entries of the running test are those after this mark. */
let mark = 0

test.group('Invitations', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    mark = await auditMark()
  })

  test('an owner invites by email; the invitee accepts through the mailed link and is logged in', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    const email = `invitee-${randomUUID().slice(0, 8)}@example.test`

    const sent = await client
      .post('/app/team/invitations')
      .form({ email, role: 'admin' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    sent.assertStatus(302)
    sent.assertHeader('location', '/app/team')

    const invitation = await Invitation.query().where('email', email).firstOrFail()
    assert.equal(invitation.companyId, company.id)
    assert.equal(invitation.invitedById, owner.id)
    assert.isTrue(invitation.expiresAt > DateTime.now())

    await drainJobs()
    const mail = await lastMailTo(email)
    assert.isNotNull(mail, 'an invitation mail was written to tmp/mail')
    const match = mail!.html.match(/\/invitations\/([A-Za-z0-9_-]+)/)
    assert.isNotNull(match, 'the mail contains the invitation link')
    const token = match![1]
    assert.notEqual(
      token,
      invitation.tokenHash,
      'the link carries the token, the database only its hash'
    )

    const opened = await client.get(`/invitations/${token}`).redirects(0)
    opened.assertStatus(200)
    assert.include(opened.text(), company.legalName)

    const accepted = await client
      .post('/invitations')
      .form({
        token,
        full_name: 'Ida Invitee',
        password: 'Invited-Passw0rd',
        password_confirmation: 'Invited-Passw0rd',
      })
      .withCsrfToken()
      .redirects(0)
    accepted.assertStatus(302)
    accepted.assertHeader('location', '/app')

    const user = await User.findByOrFail('email', email)
    assert.equal(user.companyId, company.id)
    assert.equal(user.fullName, 'Ida Invitee')
    const role = await Role.findOrFail(user.roleId)
    assert.equal(role.name, 'admin')

    // Logged in: the session of the accept response opens the customer area.
    const dashboard = await client.get('/app').withSession(accepted.session()).redirects(0)
    dashboard.assertStatus(200)

    await invitation.refresh()
    assert.isNotNull(invitation.acceptedAt)

    const sentEntry = await auditSince(mark)
      .where('action', 'invitation.sent')
      .where('target_id', String(invitation.id))
      .firstOrFail()
    assert.equal(sentEntry.actorId, owner.id)
    assert.equal(sentEntry.companyId, company.id)
    const acceptedEntry = await auditSince(mark)
      .where('action', 'invitation.accepted')
      .where('target_id', String(invitation.id))
      .firstOrFail()
    assert.equal(acceptedEntry.actorId, user.id)
    assert.equal(acceptedEntry.companyId, company.id)

    // The link is spent.
    const again = await client.get(`/invitations/${token}`).redirects(0)
    again.assertStatus(302)
    again.assertHeader('location', '/login')
  })

  test('an expired invitation link is refused', async ({ client, assert }) => {
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    const member = await Role.findByOrFail('name', 'member')
    const email = `expired-${randomUUID().slice(0, 8)}@example.test`
    const { token, hash } = newSecretToken()
    await Invitation.create({
      companyId: company.id,
      roleId: member.id,
      invitedById: owner.id,
      email,
      tokenHash: hash,
      expiresAt: DateTime.utc().minus({ minutes: 1 }),
    })

    const opened = await client.get(`/invitations/${token}`).redirects(0)
    opened.assertStatus(302)
    opened.assertHeader('location', '/login')
    opened.assertFlashMessage('error', 'Die Einladung ist ungültig oder abgelaufen.')

    const accepted = await client
      .post('/invitations')
      .form({
        token,
        full_name: 'Late Larry',
        password: 'Invited-Passw0rd',
        password_confirmation: 'Invited-Passw0rd',
      })
      .withCsrfToken()
      .redirects(0)
    accepted.assertStatus(302)
    accepted.assertHeader('location', '/login')
    assert.isNull(await User.findBy('email', email))
    assert.notProperty(accepted.session(), 'auth_web')
  })

  test('a member (without company.users.manage) gets 403 on the team page and cannot invite', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const member = await makeUser('member', company)
    assert.isFalse(await member.hasPermission('company.users.manage'))

    const page = await client.get('/app/team').loginAs(member).redirects(0)
    page.assertStatus(403)

    const email = `nope-${randomUUID().slice(0, 8)}@example.test`
    const invite = await client
      .post('/app/team/invitations')
      .form({ email, role: 'member' })
      .withCsrfToken()
      .loginAs(member)
      .redirects(0)
    invite.assertStatus(403)
    assert.isNull(await Invitation.findBy('email', email))
  })
})
