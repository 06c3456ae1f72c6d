import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import { DEFAULT_ROLE_PERMISSIONS, PERMISSIONS } from '#accounts/permissions'
import GrantAddedPermissions, {
  ADDED_GRANTS,
} from '#database/migrations/0310_grant_added_permissions_to_default_roles'
import GrantSipLockPermission, {
  ADDED_GRANTS as SIP_LOCK_GRANTS,
} from '#database/migrations/0452_grant_sip_lock_permission'
import GrantFraudManagePermission, {
  ADDED_GRANTS as FRAUD_MANAGE_GRANTS,
} from '#database/migrations/0501_grant_fraud_manage_permission'
import { ADDED_GRANTS as BILLING_GRANTS } from '#database/migrations/0602_grant_billing_manage_permission'
import { ADDED_GRANTS as ALERT_GRANTS } from '#database/migrations/0071_grant_alerts_view_permission'
import { ADDED_GRANTS as PAYMENT_GRANTS } from '#database/migrations/0651_grant_payment_details_permission'
import { ADDED_GRANTS as BREACH_GRANTS } from '#database/migrations/0713_grant_breach_permission'

/**
 * The default grants of the first release (commit 38640ba). Together with the grants that
 * migrations added since, they must equal today's defaults: a default grant added without a
 * migration would never reach the roles of an existing database.
 */
const FIRST_RELEASE: Record<string, string[]> = {
  superadmin: [
    'admin.access',
    'companies.view',
    'companies.manage',
    'carriers.manage',
    'numbers.manage',
    'fraud.view',
    'fraud.review',
    'privacy.requests.handle',
    'roles.manage',
    'audit.view',
    'staff.manage',
    'calls.live.manage',
  ],
  support: ['admin.access', 'companies.view', 'numbers.manage', 'audit.view'],
  fraud_analyst: ['admin.access', 'companies.view', 'fraud.view', 'fraud.review'],
  privacy_officer: ['admin.access', 'companies.view', 'privacy.requests.handle', 'audit.view'],
  owner: [
    'calls.place',
    'calls.history.view',
    'company.users.manage',
    'company.settings.manage',
    'company.audit.view',
    'billing.view',
  ],
  admin: ['calls.place', 'calls.history.view', 'company.users.manage', 'company.audit.view'],
  member: ['calls.place', 'calls.history.view'],
}

const ADDED = ADDED_GRANTS.map((grant) => grant.permission)

async function grantsOf(role: string) {
  const rows = await db
    .from('role_permissions')
    .join('roles', 'roles.id', 'role_permissions.role_id')
    .join('permissions', 'permissions.id', 'role_permissions.permission_id')
    .where('roles.name', role)
    .select('permissions.name')
  return rows.map((row) => row.name as string).sort()
}

/** An existing database from before the additions: the default roles lack them. */
async function withoutAddedGrants({ dropPermissionRows = false } = {}) {
  const ids = (await db.from('permissions').whereIn('name', ADDED).select('id')).map(
    (row) => row.id
  )
  await db.from('role_permissions').whereIn('permission_id', ids).delete()
  if (dropPermissionRows) await db.from('permissions').whereIn('id', ids).delete()
}

async function migrate() {
  const migration = new GrantAddedPermissions(
    db.connection(),
    '0310_grant_added_permissions_to_default_roles'
  )
  await migration.execUp()
}

test.group(
  'Migration 0310: permissions added since the first release reach existing default roles',
  (group) => {
    group.each.setup(() => testUtils.db().withGlobalTransaction())

    test('the first release plus the migrated grants are exactly today’s defaults', ({
      assert,
    }) => {
      const allMigrated = [
        ...ADDED_GRANTS,
        ...SIP_LOCK_GRANTS,
        ...FRAUD_MANAGE_GRANTS,
        ...BILLING_GRANTS,
        ...ALERT_GRANTS,
        ...PAYMENT_GRANTS,
        ...BREACH_GRANTS,
      ]
      for (const [role, defaults] of Object.entries(DEFAULT_ROLE_PERMISSIONS)) {
        const migrated = allMigrated
          .filter((grant) => (grant.roles as readonly string[]).includes(role))
          .map((grant) => grant.permission)
        assert.sameMembers(
          [...defaults],
          [...FIRST_RELEASE[role], ...migrated],
          `default grants of ${role}`
        )
      }
      for (const grant of allMigrated) assert.equal(PERMISSIONS[grant.permission], grant.scope)
    })

    test('owner and admin get the added permissions once; other roles and custom roles stay as they were', async ({
      assert,
    }) => {
      await withoutAddedGrants()
      const [custom] = await db
        .table('roles')
        .insert({ name: 'custom_company_role', scope: 'company' })
        .returning('id')
      const customId = typeof custom === 'object' ? custom.id : custom
      const before = { member: await grantsOf('member'), superadmin: await grantsOf('superadmin') }
      assert.notIncludeMembers(await grantsOf('owner'), ADDED)

      await migrate()
      await migrate()

      assert.includeMembers(await grantsOf('owner'), ADDED)
      assert.includeMembers(await grantsOf('admin'), ADDED)
      assert.sameMembers(await grantsOf('owner'), [...DEFAULT_ROLE_PERMISSIONS.owner])
      assert.sameMembers(await grantsOf('admin'), [...DEFAULT_ROLE_PERMISSIONS.admin])
      assert.deepEqual(await grantsOf('member'), before.member)
      assert.deepEqual(await grantsOf('superadmin'), before.superadmin)
      assert.lengthOf(await db.from('role_permissions').where('role_id', customId), 0)
      const counts = await db
        .from('role_permissions')
        .join('permissions', 'permissions.id', 'role_permissions.permission_id')
        .whereIn('permissions.name', ADDED)
        .groupBy('role_permissions.role_id', 'permissions.name')
        .select('role_permissions.role_id')
        .count('* as total')
      assert.isTrue(
        counts.every((row) => Number(row.total) === 1),
        'each grant exists once'
      )
    })

    test('a database that never got the permission rows gets them with the grants', async ({
      assert,
    }) => {
      await withoutAddedGrants({ dropPermissionRows: true })
      assert.lengthOf(await db.from('permissions').whereIn('name', ADDED), 0)

      await migrate()

      const rows = await db.from('permissions').whereIn('name', ADDED).select('name', 'scope')
      assert.sameDeepMembers(
        rows,
        ADDED_GRANTS.map((grant) => ({ name: grant.permission, scope: grant.scope }))
      )
      assert.includeMembers(await grantsOf('owner'), ADDED)
      assert.includeMembers(await grantsOf('admin'), ADDED)
    })

    test('an admin who grants one of them by hand before the migration keeps exactly that one grant', async ({
      assert,
    }) => {
      await withoutAddedGrants()
      const permission = await db.from('permissions').where('name', 'numbers.assign').firstOrFail()
      const admin = await db.from('roles').where('name', 'admin').firstOrFail()
      await db.table('role_permissions').insert({ role_id: admin.id, permission_id: permission.id })

      await migrate()

      const held = await db
        .from('role_permissions')
        .where('role_id', admin.id)
        .where('permission_id', permission.id)
      assert.lengthOf(held, 1)
      assert.includeMembers(await grantsOf('admin'), ADDED)
    })
  }
)

test.group(
  'Migration 0452: sip.locks.lift reaches the default support and superadmin roles',
  (group) => {
    group.each.setup(() => testUtils.db().withGlobalTransaction())

    test('support and superadmin get it once, even without the permission row; other roles do not', async ({
      assert,
    }) => {
      await db.from('permissions').where('name', 'sip.locks.lift').delete()
      const before = {
        fraud_analyst: await grantsOf('fraud_analyst'),
        privacy_officer: await grantsOf('privacy_officer'),
      }
      assert.notInclude(await grantsOf('support'), 'sip.locks.lift')

      const migration = new GrantSipLockPermission(
        db.connection(),
        '0452_grant_sip_lock_permission'
      )
      await migration.execUp()
      await new GrantSipLockPermission(db.connection(), '0452_grant_sip_lock_permission').execUp()

      assert.sameMembers(await grantsOf('support'), [...DEFAULT_ROLE_PERMISSIONS.support])
      assert.include(await grantsOf('superadmin'), 'sip.locks.lift')
      assert.deepEqual(await grantsOf('fraud_analyst'), before.fraud_analyst)
      assert.deepEqual(await grantsOf('privacy_officer'), before.privacy_officer)
      const rows = await db
        .from('role_permissions')
        .join('permissions', 'permissions.id', 'role_permissions.permission_id')
        .where('permissions.name', 'sip.locks.lift')
      assert.lengthOf(rows, 2, 'one grant each')
    })
  }
)

test.group(
  'Migration 0501: fraud.manage reaches the default fraud_analyst and superadmin roles',
  (group) => {
    group.each.setup(() => testUtils.db().withGlobalTransaction())

    test('fraud_analyst and superadmin get it once, even without the permission row; other roles do not', async ({
      assert,
    }) => {
      await db.from('permissions').where('name', 'fraud.manage').delete()
      const before = {
        support: await grantsOf('support'),
        privacy_officer: await grantsOf('privacy_officer'),
      }
      assert.notInclude(await grantsOf('fraud_analyst'), 'fraud.manage')

      await new GrantFraudManagePermission(
        db.connection(),
        '0501_grant_fraud_manage_permission'
      ).execUp()
      await new GrantFraudManagePermission(
        db.connection(),
        '0501_grant_fraud_manage_permission'
      ).execUp()

      assert.sameMembers(await grantsOf('fraud_analyst'), [
        ...DEFAULT_ROLE_PERMISSIONS.fraud_analyst,
      ])
      assert.include(await grantsOf('superadmin'), 'fraud.manage')
      assert.deepEqual(await grantsOf('support'), before.support)
      assert.deepEqual(await grantsOf('privacy_officer'), before.privacy_officer)
      const rows = await db
        .from('role_permissions')
        .join('permissions', 'permissions.id', 'role_permissions.permission_id')
        .where('permissions.name', 'fraud.manage')
      assert.lengthOf(rows, 2, 'one grant each')
    })
  }
)
