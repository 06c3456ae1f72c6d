import { test } from '@japa/runner'
import AuditEntry from '#accounts/models/audit_entry'
import {
  Created,
  loginThroughForm,
  passTwoFactor,
  staffWithTwoFactor,
  uniqueCompany,
  uniqueUser,
} from '#tests/support/browser'

test.group('Company approval in the browser', (group) => {
  const created = new Created()
  group.each.teardown(() => created.cleanup())

  test('a superadmin approves a pending company from the pending list', async ({
    visit,
    assert,
  }) => {
    const company = await uniqueCompany(created, 'pending')
    await uniqueUser(created, 'owner', company)
    const { user: superadmin, secret } = await staffWithTwoFactor(created)

    const page = await visit('/login')
    await loginThroughForm(page, superadmin.email)
    await passTwoFactor(page, secret)

    await page.goto('/admin/companies?status=pending')
    await page.assertTextContains('#companies', company.legalName)
    await Promise.all([
      page.waitForURL(`**/admin/companies/${company.id}`),
      page.click(`#companies a:has-text("${company.legalName}")`),
    ])
    await page.assertText('#company-status', 'in Prüfung')
    await Promise.all([
      page.waitForURL(`**/admin/companies/${company.id}`),
      page.click('#status-form button[data-status="active"]'),
    ])
    await page.assertText('#company-status', 'aktiv')
    await page.assertTextContains('.flash.notice', 'Der Status wurde geändert.')
    await page.assertNotExists('#status-form button[data-status="active"]')

    await company.refresh()
    assert.equal(company.status, 'active')
    assert.isNotNull(company.approvedAt)
    const entry = await AuditEntry.query()
      .where('action', 'like', 'company.status%')
      .where('target_id', String(company.id))
      .first()
    assert.isNotNull(entry)

    // The pending list no longer shows it
    await page.goto('/admin/companies?status=pending')
    await page.assertNotExists(`#companies a:has-text("${company.legalName}")`)
  })
})
