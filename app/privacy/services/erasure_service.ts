import { DateTime } from 'luxon'
import { lookupsChanged } from '#core/caching/lookup_changes'
import db from '@adonisjs/lucid/services/db'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import {
  AUDIT_RETENTION_MONTHS,
  CALL_RECORD_RETENTION_MONTHS,
} from '#privacy/personal_data_registry'
import { DATA_SUBJECT_REQUEST_RETENTION_YEARS } from '#privacy/personal_data'

export class ErasureError extends Error {
  constructor(readonly reason: 'owner' | 'staff') {
    super(`User not erased: ${reason}`)
  }
}

/** Something the erasure keeps, why (the legal ground of Art. 17(3) GDPR) and until when. */
export interface KeptRecord {
  what: 'call_records' | 'audit_entries' | 'data_subject_requests'
  count: number
  until: DateTime
}

async function newest(query: any, column: string): Promise<DateTime | null> {
  const row = await query.max(`${column} as latest`).first()
  const value = row?.latest
  if (!value) return null
  return value instanceof Date
    ? DateTime.fromJSDate(value, { zone: 'utc' })
    : DateTime.fromSQL(String(value), { zone: 'utc' }).isValid
      ? DateTime.fromSQL(String(value), { zone: 'utc' })
      : DateTime.fromISO(String(value), { zone: 'utc' })
}

/**
 * Erasure of one customer user (Art. 17 GDPR): the account and everything hanging on it goes
 * (devices, web phone logins, sessions, restrictions, pending links, invitations to the address,
 * export archives). What a legal duty or the defence of legal claims keeps (Art. 17(3)(b), (e)) stays
 * until its own retention deletes it, and the answer says what, why and until when:
 * call records (billing, TDDDG §§ 9-10; no longer linked to the account), the security audit log,
 * and the record of the request itself. The company's invoices name the company, not the user,
 * and stay under HGB/AO retention untouched.
 */
export default class ErasureService {
  now: () => DateTime = () => DateTime.utc()

  /** What would be kept if `user` were erased now (shown before the admin confirms). */
  async holds(user: User): Promise<KeptRecord[]> {
    const kept: KeptRecord[] = []
    const calls = db.from('call_records').where('user_id', user.id)
    const callCount = Number((await calls.clone().count('* as n').first())?.n ?? 0)
    const lastCall = await newest(calls.clone(), 'started_at')
    if (callCount && lastCall)
      kept.push({
        what: 'call_records',
        count: callCount,
        until: lastCall.plus({ months: CALL_RECORD_RETENTION_MONTHS }),
      })
    const audit = db.from('audit_entries').where('actor_id', user.id)
    const auditCount = Number((await audit.clone().count('* as n').first())?.n ?? 0)
    const lastAudit = await newest(audit.clone(), 'created_at')
    if (auditCount && lastAudit)
      kept.push({
        what: 'audit_entries',
        count: auditCount,
        until: lastAudit.plus({ months: AUDIT_RETENTION_MONTHS }),
      })
    return kept
  }

  async erase(actor: User, user: User, ip: string | null) {
    if (user.isStaff) throw new ErasureError('staff')
    await user.load('role')
    if (user.role.name === 'owner') throw new ErasureError('owner')
    const kept = await this.holds(user)
    const now = this.now()
    await db.transaction(async (trx) => {
      await trx.from('invitations').where('email', user.email).delete()
      await trx.from('sessions').where('user_id', String(user.id)).delete()
      await trx.from('users').where('id', user.id).delete()
      trx.after('commit', lookupsChanged)
      await AuditLog.record(
        {
          action: 'privacy.user.erased',
          actor,
          companyId: user.companyId,
          target: { type: 'user', id: user.id },
          details: { kept: kept.map((entry) => `${entry.what}:${entry.count}`) },
          ip,
        },
        { client: trx }
      )
    })
    kept.push({
      what: 'data_subject_requests',
      count: 1,
      until: now.plus({ years: DATA_SUBJECT_REQUEST_RETENTION_YEARS }),
    })
    return kept
  }
}

/** The answer to an erasure: what was kept, why and until when, in words. */
export function describeKept(
  kept: Array<{ what: string; count: number; until: DateTime }>,
  t: (key: string, data?: Record<string, unknown>) => string,
  locale: string
) {
  const lines = kept.map((entry) =>
    t(`privacy.erasure.kept.${entry.what}`, {
      count: entry.count,
      until: entry.until
        .setZone('Europe/Berlin')
        .setLocale(locale)
        .toLocaleString(DateTime.DATE_MED),
    })
  )
  return [t('privacy.erasure.deleted'), ...lines].join('\n')
}
