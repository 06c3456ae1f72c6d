import type User from '#accounts/models/user'
import AuditEntry from '#accounts/models/audit_entry'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'

export type AuditAction =
  | 'auth.login.succeeded'
  | 'auth.login.failed'
  | 'auth.login.locked'
  | 'auth.logout'
  | 'auth.password.changed'
  | 'auth.password.reset_requested'
  | 'auth.password.reset'
  | 'auth.2fa.enabled'
  | 'auth.2fa.disabled'
  | 'auth.2fa.failed'
  | 'auth.2fa.recovery_code_used'
  | 'company.signed_up'
  | 'auth.signup.confirmed'
  | 'company.status.changed'
  | 'role.permissions.changed'
  | 'user.role.changed'
  | 'company.ownership.offered'
  | 'invitation.sent'
  | 'invitation.accepted'
  | 'invitation.revoked'
  | (string & {})

export interface AuditRecord {
  action: AuditAction
  actor?: Pick<User, 'id' | 'email' | 'companyId'> | null
  /** The customer company the entry concerns; its admins see it. Defaults to the actor's. */
  companyId?: number | null
  target?: { type: string; id: string | number }
  details?: Record<string, unknown>
  ip?: string | null
}

/**
 * The security audit log: append-only. Entries are written here and never updated; only the
 * retention job shortens IPs and deletes expired entries.
 */
export default class AuditLog {
  /** Pass `client` when recording inside a transaction (SQLite has a single connection). */
  static async record(entry: AuditRecord, options: { client?: TransactionClientContract } = {}) {
    return AuditEntry.create(
      {
        action: entry.action,
        actorId: entry.actor?.id ?? null,
        actorEmail: entry.actor?.email ?? null,
        companyId:
          entry.companyId !== undefined ? entry.companyId : (entry.actor?.companyId ?? null),
        targetType: entry.target?.type ?? null,
        targetId: entry.target ? String(entry.target.id) : null,
        details: entry.details ?? null,
        ip: entry.ip ?? null,
        ipShortened: false,
      },
      options.client ? { client: options.client } : undefined
    )
  }
}
