import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditEntry from '#accounts/models/audit_entry'
import AuditLog from '#accounts/services/audit_log'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'

/** The actions of the rows the audit table shows. */
function rowActions(html: string) {
  return [...html.matchAll(/<tr data-action="([^"]+)">/g)].map((match) => match[1])
}

test.group('Audit log pages', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test("a customer admin sees only their own company's entries", async ({ client, assert }) => {
    const own = await makeCompany('active')
    const other = await makeCompany('active')
    const admin = await makeUser('admin', own)
    const stranger = await makeUser('owner', other)
    const ownMarker = `own-${randomUUID()}`
    const otherMarker = `other-${randomUUID()}`
    await AuditLog.record({
      action: 'test.own_company',
      actor: admin,
      details: { marker: ownMarker },
      ip: '192.0.2.1',
    })
    await AuditLog.record({
      action: 'test.other_company',
      actor: stranger,
      details: { marker: otherMarker },
    })
    await AuditLog.record({
      action: 'test.staff_only',
      companyId: null,
      details: { marker: 'staff-only' },
    })

    const response = await client.get('/app/audit').loginAs(admin).redirects(0)
    response.assertStatus(200)
    const html = response.text()
    assert.include(html, ownMarker)
    assert.notInclude(html, otherMarker)
    assert.notInclude(html, 'staff-only')
    const actions = rowActions(html)
    assert.include(actions, 'test.own_company')
    assert.notInclude(actions, 'test.other_company')
    assert.notInclude(actions, 'test.staff_only')
  })

  test('a member without company.audit.view gets 403 on the company audit page', async ({
    client,
  }) => {
    const member = await makeUser('member', await makeCompany('active'))
    const response = await client.get('/app/audit').loginAs(member).redirects(0)
    response.assertStatus(403)
  })

  test('staff with audit.view filter all entries by action', async ({ client, assert }) => {
    const support = await makeUser('support')
    await enableTwoFactor(support)
    assert.isTrue(await support.hasPermission('audit.view'))
    const first = await makeCompany('active')
    const second = await makeCompany('active')
    const tag = randomUUID().slice(0, 8)
    await AuditLog.record({ action: `test.alpha.${tag}`, companyId: first.id, details: { n: 1 } })
    await AuditLog.record({ action: `test.alpha.${tag}`, companyId: second.id, details: { n: 2 } })
    await AuditLog.record({ action: `test.beta.${tag}`, companyId: first.id })

    const all = await client
      .get('/admin/audit')
      .qs({ action: 'test.' })
      .loginAs(support)
      .redirects(0)
    all.assertStatus(200)
    assert.includeMembers(rowActions(all.text()), [`test.alpha.${tag}`, `test.beta.${tag}`])

    const filtered = await client
      .get('/admin/audit')
      .qs({ action: `test.alpha.${tag}` })
      .loginAs(support)
      .redirects(0)
    filtered.assertStatus(200)
    const actions = rowActions(filtered.text())
    assert.deepEqual(
      actions,
      [`test.alpha.${tag}`, `test.alpha.${tag}`],
      'both companies, only the filtered action'
    )

    const byCompany = await client
      .get('/admin/audit')
      .qs({ action: `test.alpha.${tag}`, company_id: second.id })
      .loginAs(support)
      .redirects(0)
    assert.deepEqual(rowActions(byCompany.text()), [`test.alpha.${tag}`])
    assert.include(byCompany.text(), '<dt>n</dt><dd>2</dd>')
  })

  test('staff without audit.view get 403 on the admin audit page', async ({ client, assert }) => {
    const analyst = await makeUser('fraud_analyst')
    await enableTwoFactor(analyst)
    assert.isFalse(await analyst.hasPermission('audit.view'))
    const response = await client.get('/admin/audit').loginAs(analyst).redirects(0)
    response.assertStatus(403)
  })
})

test.group('Audit log is append-only', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('the AuditEntry model refuses updates and deletes', async ({ assert }) => {
    const entry = await AuditLog.record({
      action: 'test.append_only',
      details: { original: true },
      ip: '192.0.2.7',
    })

    entry.action = 'test.rewritten'
    entry.ip = null
    await assert.rejects(() => entry.save(), /append-only/)

    const fresh = await AuditEntry.findOrFail(entry.id)
    await assert.rejects(() => fresh.delete(), /append-only/)

    const stored = await AuditEntry.findOrFail(entry.id)
    assert.equal(stored.action, 'test.append_only')
    assert.equal(stored.ip, '192.0.2.7')
    assert.deepEqual(stored.details, { original: true })
  })
})
