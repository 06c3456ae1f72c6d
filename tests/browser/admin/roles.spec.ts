import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import Permission from '#accounts/models/permission'
import Role from '#accounts/models/role'
import {
  Created,
  loginThroughForm,
  passTwoFactor,
  staffWithTwoFactor,
  uniqueCompany,
  uniqueUser,
} from '#tests/support/browser'

const CHECKBOX = 'input[data-role="admin"][data-permission="company.users.manage"]'

/** Gives the admin role `company.users.manage` back (the seeded default) whatever the test did. */
async function restoreAdminGrant() {
  const role = await Role.findByOrFail('name', 'admin')
  const permission = await Permission.findByOrFail('name', 'company.users.manage')
  const row = await db
    .from('role_permissions')
    .where({ role_id: role.id, permission_id: permission.id })
    .first()
  if (!row)
    await db.table('role_permissions').insert({ role_id: role.id, permission_id: permission.id })
}

test.group('Role-permission matrix in the browser', (group) => {
  const created = new Created()
  group.each.setup(() => restoreAdminGrant())
  group.each.teardown(async () => {
    await restoreAdminGrant()
    await created.cleanup()
  })

  test('a superadmin takes company.users.manage from admins; a company admin then gets 403 on the team page', async ({
    visit,
    browser,
    assert,
  }) => {
    // A company admin who can manage users before the change
    const company = await uniqueCompany(created)
    const companyAdmin = await uniqueUser(created, 'admin', company)
    const adminContext = await browser.newContext({
      baseURL: `http://${process.env.HOST}:${process.env.PORT}`,
      locale: 'de-DE',
    })
    const customerPage = await adminContext.newPage()
    await loginThroughForm(customerPage, companyAdmin.email)
    await customerPage.goto('/app/team')
    await customerPage.assertPath('/app/team')
    await customerPage.assertNotExists('h1:text-is("403")')

    // The superadmin edits the matrix
    const { user: superadmin, secret } = await staffWithTwoFactor(created)
    const page = await visit('/login')
    await loginThroughForm(page, superadmin.email)
    await passTwoFactor(page, secret)
    await page.assertPath('/admin')

    await page.goto('/admin/roles')
    await page.assertChecked(CHECKBOX)
    await page.screenshot({ path: 'tmp/screens/admin_roles.png', fullPage: true })
    await page.uncheck(CHECKBOX)
    await Promise.all([
      page.waitForURL('**/admin/roles'),
      page.click('#roles-form button[type="submit"]'),
    ])
    await page.assertTextContains('.flash.notice', 'Die Rechte wurden gespeichert.')
    await page.assertNotChecked(CHECKBOX)
    // Other grants of the role are untouched
    await page.assertChecked('input[data-role="admin"][data-permission="company.audit.view"]')
    await page.assertChecked('input[data-role="owner"][data-permission="company.users.manage"]')

    // The company admin (a fresh login in a fresh browser context) is now refused
    const freshContext = await browser.newContext({
      baseURL: `http://${process.env.HOST}:${process.env.PORT}`,
      locale: 'de-DE',
    })
    const freshPage = await freshContext.newPage()
    await loginThroughForm(freshPage, companyAdmin.email)
    const response = await freshPage.goto('/app/team')
    assert.equal(response?.status(), 403)
    await freshPage.assertText('h1', '403')
    await freshPage.assertTextContains('main', 'Dafür fehlen Ihnen die Rechte.')

    // and so is the session that was already open
    const again = await customerPage.goto('/app/team')
    assert.equal(again?.status(), 403)

    await adminContext.close()
    await freshContext.close()
  })
})
