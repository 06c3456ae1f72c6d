import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import testUtils from '@adonisjs/core/services/test_utils'
import Role from '#accounts/models/role'
import User from '#accounts/models/user'
import type Company from '#accounts/models/company'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { recordDispatches, runDispatched } from '#tests/support/jobs'
import { lastMailTo } from '#tests/support/mail'

const ROLE_MAIL_SUBJECT = 'Rollenänderung bei FluffyCall / Role change at FluffyCall'

function setRole(client: any, actor: User, member: User, role: string) {
  return client
    .put(`/app/team/users/${member.id}/role`)
    .form({ role })
    .withCsrfToken()
    .loginAs(actor)
    .redirects(0)
}

async function roleOf(user: User) {
  const fresh = await User.findOrFail(user.id)
  return (await Role.findOrFail(fresh.roleId)).name
}

async function team(status: Company['status'] = 'active') {
  const company = await makeCompany(status)
  return {
    company,
    owner: await makeUser('owner', company),
    admin: await makeUser('admin', company),
    member: await makeUser('member', company),
  }
}

/** Nobody inside a company takes it over: ownership is handed over by an owner and accepted. */
test.group('Company ownership', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('an admin can neither make an owner nor unmake one', async ({ client, assert, cleanup }) => {
    const dispatched = await recordDispatches(cleanup)
    const { owner, admin, member } = await team()

    const promote = await setRole(client, admin, member, 'owner')
    promote.assertStatus(302)
    assert.equal(await roleOf(member), 'member')
    const demote = await setRole(client, admin, owner, 'member')
    demote.assertStatus(302)
    assert.equal(await roleOf(owner), 'owner')
    assert.match(demote.flashMessage('error'), /Nur Inhaber/)
    assert.lengthOf(dispatched, 0)
  })

  test('nobody changes their own role', async ({ client, assert }) => {
    const { owner, admin } = await team()
    await setRole(client, admin, admin, 'owner')
    assert.equal(await roleOf(admin), 'admin')
    await setRole(client, owner, owner, 'member')
    assert.equal(await roleOf(owner), 'owner')
  })

  test('an owner offers ownership; it takes effect only when the new owner accepts; audited and mailed to the owners', async ({
    client,
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    const { owner, member } = await team()
    const mark = await auditMark()

    const offered = await setRole(client, owner, member, 'owner')
    offered.assertStatus(302)
    assert.equal(await roleOf(member), 'member', 'an offer, not yet a change')
    await auditSince(mark)
      .where('action', 'company.ownership.offered')
      .where('target_id', String(member.id))
      .firstOrFail()

    const dashboard = await client.get('/app').loginAs(member)
    assert.include(dashboard.text(), 'Inhaberschaft annehmen')

    // Someone else cannot accept it
    const { member: stranger } = await team()
    await client.post('/app/ownership/accept').withCsrfToken().loginAs(stranger).redirects(0)
    assert.equal(await roleOf(stranger), 'member')

    const accepted = await client
      .post('/app/ownership/accept')
      .withCsrfToken()
      .loginAs(member)
      .redirects(0)
    accepted.assertStatus(302)
    assert.equal(await roleOf(member), 'owner')
    const change = await auditSince(mark)
      .where('action', 'user.role.changed')
      .where('target_id', String(member.id))
      .firstOrFail()
    assert.equal(change.actorId, member.id)
    assert.deepInclude(change.details as object, { to: 'owner' })

    // Mailed to every owner through the queue, with a fixed subject
    assert.deepEqual(
      dispatched.map((entry) => entry.name),
      ['accounts.role_changed_mail']
    )
    await runDispatched(dispatched)
    for (const address of [owner.email, member.email]) {
      const sent = await lastMailTo(address)
      assert.equal(sent?.subject, ROLE_MAIL_SUBJECT, address)
    }

    // The offer is spent
    await client.post('/app/ownership/accept').withCsrfToken().loginAs(member).redirects(0)
    assert.lengthOf(await auditSince(mark).where('action', 'user.role.changed'), 1)
  })

  test('an owner steps down only while another active owner remains', async ({
    client,
    assert,
  }) => {
    const { company, owner } = await team()
    const page = await client.get('/app/team').loginAs(owner)
    assert.include(page.text(), 'Als Inhaber zurücktreten')

    const alone = await client
      .post('/app/team/step-down')
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    alone.assertStatus(302)
    assert.equal(await roleOf(owner), 'owner', 'the only owner stays')

    const disabled = await makeUser('owner', company)
    disabled.disabledAt = DateTime.utc()
    await disabled.save()
    await client.post('/app/team/step-down').withCsrfToken().loginAs(owner).redirects(0)
    assert.equal(await roleOf(owner), 'owner', 'a disabled owner does not count')

    const second = await makeUser('owner', company)
    const done = await client
      .post('/app/team/step-down')
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    done.assertStatus(302)
    assert.equal(await roleOf(owner), 'admin')
    assert.equal(await roleOf(second), 'owner')
  })

  test('an owner unmakes another owner, audited and mailed', async ({
    client,
    assert,
    cleanup,
  }) => {
    const dispatched = await recordDispatches(cleanup)
    const { company, owner } = await team()
    const other = await makeUser('owner', company)
    const mark = await auditMark()

    await setRole(client, owner, other, 'admin')
    assert.equal(await roleOf(other), 'admin')
    const change = await auditSince(mark)
      .where('action', 'user.role.changed')
      .where('target_id', String(other.id))
      .firstOrFail()
    assert.equal(change.actorId, owner.id)
    assert.deepEqual(
      dispatched.map((entry) => entry.name),
      ['accounts.role_changed_mail']
    )
  })
})
