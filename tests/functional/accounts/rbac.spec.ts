import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import Role from '#accounts/models/role'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { auditMark, auditSince } from '#tests/support/audit'

/** The role-permission matrix as it is stored now: role name -> permission names. */
async function currentMatrix() {
  const roles = await Role.query().preload('permissions')
  return Object.fromEntries(
    roles.map((role) => [role.name, role.permissions.map((p) => p.name)])
  ) as Record<string, string[]>
}

/** The form body the roles page posts: grants[role][]=permission for every ticked box. */
function matrixForm(matrix: Record<string, string[]>) {
  const pairs: string[] = []
  for (const [role, permissions] of Object.entries(matrix)) {
    for (const permission of permissions) {
      pairs.push(`${encodeURIComponent(`grants[${role}][]`)}=${encodeURIComponent(permission)}`)
    }
  }
  return pairs.join('&')
}

async function grantsOf(roleName: string) {
  const rows = await db
    .from('role_permissions')
    .join('roles', 'roles.id', 'role_permissions.role_id')
    .join('permissions', 'permissions.id', 'role_permissions.permission_id')
    .where('roles.name', roleName)
    .select('permissions.name')
  return rows.map((row) => row.name as string).sort()
}

/** Audit entries of the running test are those after this mark. */
let mark = 0

test.group('Role editing', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(async () => {
    mark = await auditMark()
  })

  test('a superadmin removes company.users.manage from admin: the company admin loses the team page', async ({
    client,
    assert,
  }) => {
    const superadmin = await makeUser('superadmin')
    await enableTwoFactor(superadmin)
    const company = await makeCompany('active')
    const admin = await makeUser('admin', company)

    const before = await client.get('/app/team').loginAs(admin).redirects(0)
    before.assertStatus(200)

    const matrix = await currentMatrix()
    assert.include(matrix.admin, 'company.users.manage')
    const adminBefore = [...matrix.admin].sort()
    matrix.admin = matrix.admin.filter((name) => name !== 'company.users.manage')

    const response = await client
      .put('/admin/roles')
      .form(matrixForm(matrix) as any)
      .withCsrfToken()
      .loginAs(superadmin)
      .redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/admin/roles')

    assert.deepEqual(
      await grantsOf('admin'),
      adminBefore.filter((name) => name !== 'company.users.manage')
    )
    // Nothing else changed.
    for (const role of Object.keys(matrix).filter((name) => name !== 'admin')) {
      assert.deepEqual(await grantsOf(role), [...matrix[role]].sort(), `grants of ${role}`)
    }

    const after = await client.get('/app/team').loginAs(admin).redirects(0)
    after.assertStatus(403)

    const entries = await auditSince(mark).where('action', 'role.permissions.changed')
    assert.lengthOf(entries, 1, 'only the changed role is audited')
    assert.equal(entries[0].targetId, 'admin')
    assert.equal(entries[0].actorId, superadmin.id)
    assert.deepEqual(entries[0].details, { added: [], removed: ['company.users.manage'] })
  })

  test('a superadmin cannot take the matrix rights away from their own role', async ({
    client,
    assert,
  }) => {
    const superadmin = await makeUser('superadmin')
    await enableTwoFactor(superadmin)
    const matrix = await currentMatrix()
    matrix.superadmin = matrix.superadmin.filter(
      (name) => !['roles.manage', 'admin.access', 'staff.manage'].includes(name)
    )

    await client
      .put('/admin/roles')
      .form(matrixForm(matrix) as any)
      .withCsrfToken()
      .loginAs(superadmin)
      .redirects(0)

    const kept = await grantsOf('superadmin')
    assert.includeMembers(kept, ['roles.manage', 'admin.access'])
    assert.notInclude(
      kept,
      'staff.manage',
      'other permissions of the own role can still be removed'
    )
    const page = await client.get('/admin/roles').loginAs(superadmin)
    page.assertStatus(200)
  })

  test('a staff permission posted for a company role is ignored', async ({ client, assert }) => {
    const superadmin = await makeUser('superadmin')
    await enableTwoFactor(superadmin)
    const matrix = await currentMatrix()
    const memberBefore = [...matrix.member].sort()
    matrix.member = [...matrix.member, 'carriers.manage', 'audit.view']
    matrix.owner = [...matrix.owner, 'roles.manage']

    const response = await client
      .put('/admin/roles')
      .form(matrixForm(matrix) as any)
      .withCsrfToken()
      .loginAs(superadmin)
      .redirects(0)
    response.assertStatus(302)

    assert.deepEqual(await grantsOf('member'), memberBefore)
    assert.notInclude(await grantsOf('owner'), 'roles.manage')
    const member = await makeUser('member')
    assert.isFalse(await member.hasPermission('carriers.manage'))
    const entries = await auditSince(mark).where('action', 'role.permissions.changed')
    assert.lengthOf(entries, 0, 'no role changed, nothing audited')
  })

  test('a permission granted through the matrix takes effect and is audited as added', async ({
    client,
    assert,
  }) => {
    const superadmin = await makeUser('superadmin')
    await enableTwoFactor(superadmin)
    const company = await makeCompany('active')
    const member = await makeUser('member', company)
    const before = await client.get('/app/team').loginAs(member).redirects(0)
    before.assertStatus(403)

    const matrix = await currentMatrix()
    matrix.member = [...matrix.member, 'company.users.manage']
    const response = await client
      .put('/admin/roles')
      .form(matrixForm(matrix) as any)
      .withCsrfToken()
      .loginAs(superadmin)
      .redirects(0)
    response.assertStatus(302)

    const after = await client.get('/app/team').loginAs(member).redirects(0)
    after.assertStatus(200)
    const entry = await auditSince(mark)
      .where('action', 'role.permissions.changed')
      .where('target_id', 'member')
      .firstOrFail()
    assert.deepEqual(entry.details, { added: ['company.users.manage'], removed: [] })
  })

  test('staff without roles.manage cannot edit the matrix', async ({ client, assert }) => {
    const support = await makeUser('support')
    await enableTwoFactor(support)
    const matrix = await currentMatrix()
    const adminBefore = await grantsOf('admin')
    matrix.admin = []
    const response = await client
      .put('/admin/roles')
      .form(matrixForm(matrix) as any)
      .withCsrfToken()
      .loginAs(support)
      .redirects(0)
    response.assertStatus(403)
    assert.deepEqual(await grantsOf('admin'), adminBefore)
  })
})
