import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import queue from '#core/services/queue'
import { sqlTime } from '#core/sql_time'
import DataBreach, { type BreachRole } from '#privacy/models/data_breach'
import BreachNoticeMailJob from '#privacy/jobs/breach_notice_mail_job'

/** Art. 33(1) GDPR: the controller reports to the authority within 72 hours of becoming aware. */
export const AUTHORITY_DEADLINE_HOURS = 72

export interface BreachFacts {
  title: string
  nature: string
  dataConcerned: string
  consequences: string
  measures: string
  role: BreachRole
  becameAwareAt: DateTime
}

export class BreachError extends Error {
  constructor(readonly reason: 'closed' | 'no_recipients' | 'delay_reason_missing') {
    super(`Breach not changed: ${reason}`)
  }
}

/**
 * The breach workflow: a record per breach (Art. 33(5)), the affected customers' owners notified
 * from one template through the mail queue (Art. 33(2)), the report to the authority noted with its
 * reference (Art. 33(1); later than 72 hours only with the reason, 33(1) sentence 2). Audited; the
 * clock is injectable.
 */
export default class DataBreachService {
  now: () => DateTime = () => DateTime.utc()

  async record(actor: User, facts: BreachFacts, ip: string | null) {
    // Stored as UTC: the SQLite driver writes a time as it reads in its own zone
    const aware = facts.becameAwareAt.toUTC()
    const breach = await DataBreach.create({
      ...facts,
      becameAwareAt: aware,
      authorityDueAt: aware.plus({ hours: AUTHORITY_DEADLINE_HOURS }),
      authorityNotifiedAt: null,
      authorityReference: null,
      delayReason: null,
      status: 'open',
      recordedById: actor.id,
      createdAt: this.now(),
      closedAt: null,
    })
    await AuditLog.record({
      action: 'privacy.breach.recorded',
      actor,
      companyId: null,
      target: { type: 'data_breach', id: breach.id },
      details: { role: facts.role },
      ip,
    })
    return breach
  }

  /** Open breaches whose report to the authority is due and not yet made, at `now`. */
  async authorityOverdue(now = this.now()) {
    return (
      await DataBreach.query().where('status', 'open').whereNull('authority_notified_at')
    ).filter((breach) => breach.reportsToAuthority && breach.authorityDueAt < now)
  }

  async notices(breach: DataBreach) {
    return db
      .from('data_breach_notices')
      .join('companies', 'companies.id', 'data_breach_notices.company_id')
      .where('breach_id', breach.id)
      .select('companies.id', 'companies.legal_name', 'recipients', 'notified_at')
      .orderBy('notified_at')
  }

  /** Mails the owners of each company (once per company), audited per company. */
  async notifyOwners(actor: User, breach: DataBreach, companyIds: number[], ip: string | null) {
    if (breach.status !== 'open') throw new BreachError('closed')
    const already = new Set(
      (await db.from('data_breach_notices').where('breach_id', breach.id).select('company_id')).map(
        (row) => Number(row.company_id)
      )
    )
    let notified = 0
    for (const companyId of companyIds.filter((id) => !already.has(id))) {
      const company = await db.from('companies').where('id', companyId).first()
      if (!company) continue
      const owners = await db
        .from('users')
        .join('roles', 'roles.id', 'users.role_id')
        .where('users.company_id', companyId)
        .where('roles.name', 'owner')
        .whereNull('users.disabled_at')
        .select('users.email')
      if (!owners.length) continue
      for (const owner of owners)
        await queue.dispatch(new BreachNoticeMailJob(), {
          breachId: breach.id,
          to: owner.email,
          companyName: company.legal_name,
        })
      await db.table('data_breach_notices').insert({
        breach_id: breach.id,
        company_id: companyId,
        recipients: owners.length,
        notified_at: sqlTime(this.now()),
      })
      await AuditLog.record({
        action: 'privacy.breach.owners_notified',
        actor,
        companyId,
        target: { type: 'data_breach', id: breach.id },
        details: { recipients: owners.length },
        ip,
      })
      notified++
    }
    if (!notified && companyIds.length) throw new BreachError('no_recipients')
    return notified
  }

  /** Notes the report to the authority; a report after the 72 hours needs the reason for the delay. */
  async authorityNotified(
    actor: User,
    breach: DataBreach,
    facts: { reference: string; delayReason: string | null },
    ip: string | null
  ) {
    if (breach.status !== 'open') throw new BreachError('closed')
    const now = this.now()
    if (now > breach.authorityDueAt && !facts.delayReason)
      throw new BreachError('delay_reason_missing')
    breach.merge({
      authorityNotifiedAt: now,
      authorityReference: facts.reference,
      delayReason: facts.delayReason,
    })
    await breach.save()
    await AuditLog.record({
      action: 'privacy.breach.authority_notified',
      actor,
      companyId: null,
      target: { type: 'data_breach', id: breach.id },
      details: { late: now > breach.authorityDueAt },
      ip,
    })
  }

  async close(actor: User, breach: DataBreach, ip: string | null) {
    if (breach.status !== 'open') throw new BreachError('closed')
    breach.merge({ status: 'closed', closedAt: this.now() })
    await breach.save()
    await AuditLog.record({
      action: 'privacy.breach.closed',
      actor,
      companyId: null,
      target: { type: 'data_breach', id: breach.id },
      ip,
    })
  }
}
