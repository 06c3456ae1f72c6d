import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import Company from '#accounts/models/company'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { auditMark, auditSince } from '#tests/support/audit'

/** Audit entries of the running test are those after this mark. */
let mark = 0

test.group('Staff approval of companies', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    mark = await auditMark()
  })

  test('a superadmin approves a pending company: active, approval time set, audited', async ({
    client,
    assert,
  }) => {
    const staff = await makeUser('superadmin')
    await enableTwoFactor(staff)
    const company = await makeCompany('pending')

    const response = await client
      .put(`/admin/companies/${company.id}/status`)
      .form({ status: 'active', reason: 'Register entry checked' })
      .withCsrfToken()
      .loginAs(staff)
      .redirects(0)

    response.assertStatus(302)
    response.assertHeader('location', `/admin/companies/${company.id}`)
    response.assertFlashMessage('notice')

    await company.refresh()
    assert.equal(company.status, 'active')
    assert.isNotNull(company.approvedAt)

    const entry = await auditSince(mark)
      .where('action', 'company.status.changed')
      .where('target_type', 'company')
      .where('target_id', String(company.id))
      .firstOrFail()
    assert.equal(entry.actorId, staff.id)
    assert.equal(entry.companyId, company.id)
    assert.deepEqual(entry.details, {
      from: 'pending',
      to: 'active',
      reason: 'Register entry checked',
    })
  })

  test('support staff (without companies.manage) get 403 and the company stays pending', async ({
    client,
    assert,
  }) => {
    const support = await makeUser('support')
    await enableTwoFactor(support)
    assert.isFalse(await support.hasPermission('companies.manage'))
    const company = await makeCompany('pending')

    const response = await client
      .put(`/admin/companies/${company.id}/status`)
      .form({ status: 'active' })
      .withCsrfToken()
      .loginAs(support)
      .redirects(0)

    response.assertStatus(403)
    await company.refresh()
    assert.equal(company.status, 'pending')
    assert.isNull(company.approvedAt)
    const entries = await auditSince(mark)
      .where('action', 'company.status.changed')
      .where('company_id', company.id)
    assert.lengthOf(entries, 0)
  })

  test('staff without 2FA are sent to the 2FA set-up and change nothing', async ({
    client,
    assert,
  }) => {
    const staff = await makeUser('superadmin')
    const company = await makeCompany('pending')

    const response = await client
      .put(`/admin/companies/${company.id}/status`)
      .form({ status: 'active' })
      .withCsrfToken()
      .loginAs(staff)
      .redirects(0)

    response.assertStatus(302)
    response.assertHeader('location', '/account/2fa')
    await company.refresh()
    assert.equal(company.status, 'pending')
  })

  test('an impossible transition (terminated -> active) is refused', async ({ client, assert }) => {
    const staff = await makeUser('superadmin')
    await enableTwoFactor(staff)
    const company = await makeCompany('terminated')

    const response = await client
      .put(`/admin/companies/${company.id}/status`)
      .form({ status: 'active' })
      .withCsrfToken()
      .loginAs(staff)
      .redirects(0)

    response.assertStatus(302)
    response.assertFlashMessage('error')
    response.assertFlashMissing('notice')
    const reloaded = await Company.findOrFail(company.id)
    assert.equal(reloaded.status, 'terminated')
    assert.isNull(reloaded.approvedAt)
    const entries = await auditSince(mark)
      .where('action', 'company.status.changed')
      .where('company_id', company.id)
    assert.lengthOf(entries, 0)
  })
})
