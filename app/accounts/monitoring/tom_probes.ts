import { randomBytes } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TomProbe, TomProbeResult } from '#core/monitoring/tom_checks'
import Role from '#accounts/models/role'
import User from '#accounts/models/user'
import LoginService, { LOGIN_MAX_FAILURES } from '#accounts/services/login_service'

/** The synthetic account the lockout check logs into: staff-only (no company), disabled. */
export const LOCKOUT_CHECK_EMAIL = 'tom-lockout-check@fluffycall.invalid'
/** A documentation address (RFC 5737): never a real client. */
const LOCKOUT_CHECK_IP = '192.0.2.77'

/**
 * The audit log refuses an UPDATE, proven by trying: a synthetic entry inserted and changed in a
 * transaction that is always rolled back. The rule is the database's own on PostgreSQL (migration
 * 0851); on SQLite only the application keeps the log append-only, so there is nothing to prove.
 */
export function auditAppendOnlyProbe(): TomProbe {
  return {
    key: 'audit_append_only',
    async run(now): Promise<TomProbeResult> {
      if (db.connection().dialect.name !== 'postgres')
        return { ok: null, facts: { detail: 'postgres_only' } }
      const trx = await db.transaction()
      let refused = false
      try {
        const [row] = await trx
          .table('audit_entries')
          .insert({
            action: 'tom.append_only_check',
            ip_shortened: false,
            created_at: DateTime.fromJSDate(now).toUTC().toJSDate(),
          })
          .returning('id')
        const id = typeof row === 'object' ? row.id : row
        try {
          await trx.from('audit_entries').where('id', id).update({ action: 'tom.changed' })
        } catch {
          refused = true
        }
      } finally {
        await trx.rollback()
      }
      return { ok: refused, facts: { detail: refused ? 'update_refused' : 'update_accepted' } }
    },
  }
}

/**
 * The login lock works: a synthetic staff-only account (no company, so its entries never reach a
 * customer's audit log; disabled, so it never logs in) gets LOGIN_MAX_FAILURES wrong passwords,
 * then the right one must be refused as locked.
 */
export function loginLockoutProbe(): TomProbe {
  return {
    key: 'login_lockout',
    async run(): Promise<TomProbeResult> {
      const password = randomBytes(24).toString('base64url')
      const user = await syntheticAccount(password)
      const login = new LoginService()
      for (let attempt = 0; attempt < LOGIN_MAX_FAILURES; attempt++)
        await login.attempt(LOCKOUT_CHECK_EMAIL, `wrong-${attempt}`, LOCKOUT_CHECK_IP)
      const result = await login.attempt(LOCKOUT_CHECK_EMAIL, password, LOCKOUT_CHECK_IP)
      return {
        ok: result.kind === 'locked' && user.companyId === null,
        facts: { failedAttempts: LOGIN_MAX_FAILURES, locked: result.kind === 'locked' },
      }
    },
  }
}

async function syntheticAccount(password: string) {
  const known = await User.findBy('email', LOCKOUT_CHECK_EMAIL)
  if (known) {
    known.merge({ password, disabledAt: known.disabledAt ?? DateTime.utc() })
    await known.save()
    return known
  }
  // The staff role with the fewest permissions, should the account ever be enabled by mistake
  const roles = await Role.query().where('scope', 'staff').withCount('permissions')
  const role = roles.sort(
    (a, b) => Number(a.$extras.permissions_count) - Number(b.$extras.permissions_count)
  )[0]
  if (!role) throw new Error('no staff role exists for the synthetic lockout account')
  return User.create({
    companyId: null,
    roleId: role.id,
    isStaff: true,
    fullName: 'TOM check (synthetic account, cannot log in)',
    email: LOCKOUT_CHECK_EMAIL,
    password,
    locale: 'en',
    disabledAt: DateTime.utc(),
  })
}
