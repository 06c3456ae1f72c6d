import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import { generateSecret } from 'otplib'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditEntry from '#accounts/models/audit_entry'
import User from '#accounts/models/user'
import TwoFactorService from '#accounts/services/two_factor_service'
import { makeCompany, makeUser, TEST_PASSWORD } from '#tests/support/accounts'
import { lastMailTo } from '#tests/support/mail'

async function staffWith2fa(role: 'superadmin' | 'support') {
  const user = await makeUser(role)
  user.totpSecret = new TwoFactorService().sealSecret(generateSecret())
  user.totpEnabledAt = DateTime.utc()
  await user.save()
  return user
}

test.group('Staff accounts', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a superadmin creates a staff account; the colleague gets a link to choose a password', async ({
    client,
    assert,
  }) => {
    const admin = await staffWith2fa('superadmin')
    const response = await client
      .post('/admin/staff')
      .form({
        email: 'new.colleague@fluffycall.test',
        full_name: 'New Colleague',
        role: 'fraud_analyst',
      })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    response.assertHeader('location', '/admin/staff')

    const created = await User.query()
      .where('email', 'new.colleague@fluffycall.test')
      .preload('role')
      .firstOrFail()
    assert.isTrue(created.isStaff)
    assert.isNull(created.companyId)
    assert.equal(created.role.name, 'fraud_analyst')
    assert.isTrue(await created.hasPermission('fraud.review'))
    assert.isFalse(await created.hasPermission('roles.manage'))
    const mail = await lastMailTo('new.colleague@fluffycall.test')
    assert.match(mail!.html, /\/password\/reset\/[A-Za-z0-9_-]+/)
    assert.exists(
      await AuditEntry.query()
        .where('action', 'staff.created')
        .where('target_id', String(created.id))
        .first()
    )
  })

  test('support staff cannot manage staff accounts', async ({ client }) => {
    const support = await staffWith2fa('support')
    const response = await client.get('/admin/staff').loginAs(support)
    response.assertStatus(403)
  })

  test('a disabled staff account can no longer log in', async ({ client, assert }) => {
    const admin = await staffWith2fa('superadmin')
    const colleague = await staffWith2fa('support')
    await client
      .put(`/admin/staff/${colleague.id}/disabled`)
      .form({ disabled: 'true' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    await colleague.refresh()
    assert.isNotNull(colleague.disabledAt)
    const login = await client
      .post('/login')
      .form({ email: colleague.email, password: TEST_PASSWORD })
      .withCsrfToken()
      .redirects(0)
    login.assertFlashMessage('errorsBag', { email: 'E-Mail-Adresse oder Passwort ist falsch.' })
  })
})

test.group('Company status and what users may do', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('users of a suspended company still log in but cannot manage users', async ({ client }) => {
    const company = await makeCompany('suspended')
    const owner = await makeUser('owner', company)
    const login = await client
      .post('/login')
      .form({ email: owner.email, password: TEST_PASSWORD })
      .withCsrfToken()
      .redirects(0)
    login.assertHeader('location', '/app')
    const team = await client.get('/app/team').loginAs(owner)
    team.assertStatus(403)
  })

  // Owners keep read access to invoices and the export until the data goes (account_end specs).
  test('users of a terminated company other than its owners cannot log in', async ({ client }) => {
    const company = await makeCompany('terminated')
    const member = await makeUser('member', company)
    const login = await client
      .post('/login')
      .form({ email: member.email, password: TEST_PASSWORD })
      .withCsrfToken()
      .redirects(0)
    login.assertFlashMessage('errorsBag', {
      email: 'Der Vertrag für dieses Konto ist beendet. Bei Fragen: datenschutz@fluffycall.de.',
    })
  })
})

test.group('Changing roles', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a company owner makes a member an admin; the change is audited for the company', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    const member = await makeUser('member', company)
    assert.isFalse(await member.hasPermission('company.users.manage'))

    await client
      .put(`/app/team/users/${member.id}/role`)
      .form({ role: 'admin' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)

    const reloaded = await User.query().where('id', member.id).preload('role').firstOrFail()
    assert.equal(reloaded.role.name, 'admin')
    assert.isTrue(await reloaded.hasPermission('company.users.manage'))
    const entry = await AuditEntry.query()
      .where('action', 'user.role.changed')
      .where('target_id', String(member.id))
      .firstOrFail()
    assert.equal(entry.companyId, company.id)
  })

  test('a company owner cannot hand out a staff role, and a superadmin changes a colleague but not themselves', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    const member = await makeUser('member', company)
    const refused = await client
      .put(`/app/team/users/${member.id}/role`)
      .form({ role: 'superadmin' })
      .withCsrfToken()
      .loginAs(owner)
      .redirects(0)
    refused.assertStatus(302)
    assert.equal(
      (await User.query().where('id', member.id).preload('role').firstOrFail()).role.name,
      'member'
    )

    const admin = await staffWith2fa('superadmin')
    const colleague = await staffWith2fa('support')
    await client
      .put(`/admin/staff/${colleague.id}/role`)
      .form({ role: 'privacy_officer' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.equal(
      (await User.query().where('id', colleague.id).preload('role').firstOrFail()).role.name,
      'privacy_officer'
    )
    await client
      .put(`/admin/staff/${admin.id}/role`)
      .form({ role: 'support' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.equal(
      (await User.query().where('id', admin.id).preload('role').firstOrFail()).role.name,
      'superadmin'
    )
  })
})
