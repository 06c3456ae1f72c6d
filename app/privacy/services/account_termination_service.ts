import { DateTime } from 'luxon'
import emitter from '@adonisjs/core/services/emitter'
import type User from '#accounts/models/user'
import Company from '#accounts/models/company'
import Role from '#accounts/models/role'
import AuditLog from '#accounts/services/audit_log'
import queue from '#core/services/queue'
import { sqlTime } from '#core/sql_time'
import AccountTermination from '#privacy/models/account_termination'
import AccountTerminationMailJob from '#privacy/jobs/account_termination_mail_job'
import { ACCOUNT_END_GRACE_DAYS } from '#privacy/services/account_end_service'
import {
  AUDIT_RETENTION_MONTHS,
  CALL_RECORD_RETENTION_MONTHS,
  retainedUntil,
} from '#privacy/personal_data_registry'

const ZONE = 'Europe/Berlin'

export type TerminationErrorReason = 'not_owner' | 'already' | 'ended' | 'confirmation' | 'too_late'

export class TerminationError extends Error {
  constructor(readonly reason: TerminationErrorReason) {
    super(reason)
  }
}

/**
 * The notice rule: a termination takes effect at the end of the calendar month it is given in
 * (German time); the returned moment is midnight at the start of the next month.
 */
export function terminationEndsAt(givenAt: DateTime): DateTime {
  return givenAt.setZone(ZONE).startOf('month').plus({ months: 1 }).toUTC()
}

/** The last day of the contract, for the pages and mails (the day before `endsAt`, German time). */
export function lastDay(endsAt: DateTime): DateTime {
  return endsAt.setZone(ZONE).minus({ days: 1 })
}

/**
 * An owner terminates the company's account in the customer area, confirmed by typing the
 * company's name; until the end date the termination can be withdrawn. At the end date the
 * account-end job sets the company terminated (calls, devices and the other users' logins end);
 * the owners keep read access to invoices and the data export until the account data is deleted
 * (AccountEndService). Every step is audited and mailed to the owners. The clock is injectable.
 */
export default class AccountTerminationService {
  now: () => DateTime = () => DateTime.utc()

  async isOwner(user: User, company: Company) {
    if (user.companyId !== company.id || user.isStaff) return false
    return (await Role.find(user.roleId))?.name === 'owner'
  }

  /** The termination given and neither withdrawn nor carried out yet. */
  async pending(companyId: number) {
    return AccountTermination.query()
      .where('company_id', companyId)
      .whereNull('withdrawn_at')
      .whereNull('carried_out_at')
      .first()
  }

  /** What the page and the mails say: end date, read access, what is kept and until when. */
  facts(endsAt: DateTime) {
    return {
      endsAt,
      lastDay: lastDay(endsAt),
      readAccessUntil: endsAt.plus({ days: ACCOUNT_END_GRACE_DAYS }).setZone(ZONE),
      invoicesUntil: retainedUntil('invoices', endsAt),
      callRecordMonths: CALL_RECORD_RETENTION_MONTHS,
      auditMonths: AUDIT_RETENTION_MONTHS,
      graceDays: ACCOUNT_END_GRACE_DAYS,
    }
  }

  async terminate(owner: User, company: Company, confirmation: string, ip: string | null) {
    if (!(await this.isOwner(owner, company))) throw new TerminationError('not_owner')
    if (company.status === 'terminated') throw new TerminationError('ended')
    if (await this.pending(company.id)) throw new TerminationError('already')
    if (confirmation.trim() !== company.legalName.trim()) throw new TerminationError('confirmation')
    const now = this.now()
    const termination = await AccountTermination.create({
      companyId: company.id,
      requestedById: owner.id,
      requestedAt: now,
      endsAt: terminationEndsAt(now),
    })
    await AuditLog.record({
      action: 'privacy.account.termination_requested',
      actor: owner,
      companyId: company.id,
      target: { type: 'company', id: company.id },
      details: { endsAt: termination.endsAt.toISO() },
      ip,
    })
    await this.#mailOwners(company, 'requested', termination.endsAt)
    return termination
  }

  async withdraw(owner: User, company: Company, ip: string | null) {
    if (!(await this.isOwner(owner, company))) throw new TerminationError('not_owner')
    const termination = await this.pending(company.id)
    if (!termination || company.status === 'terminated') throw new TerminationError('ended')
    const now = this.now()
    if (termination.endsAt <= now) throw new TerminationError('too_late')
    termination.merge({ withdrawnAt: now, withdrawnById: owner.id })
    await termination.save()
    await AuditLog.record({
      action: 'privacy.account.termination_withdrawn',
      actor: owner,
      companyId: company.id,
      target: { type: 'company', id: company.id },
      details: { endsAt: termination.endsAt.toISO() },
      ip,
    })
    await this.#mailOwners(company, 'withdrawn', termination.endsAt)
  }

  /**
   * Carries out the terminations whose end date has come: the company becomes terminated as of
   * the end date (the listeners end its calls, devices, web phone logins and sessions).
   */
  async carryOutDue(now = this.now()) {
    const due = await AccountTermination.query()
      .whereNull('withdrawn_at')
      .whereNull('carried_out_at')
      .where('ends_at', '<=', sqlTime(now))
    for (const termination of due) {
      const company = await Company.find(termination.companyId)
      if (company && company.status !== 'terminated') {
        const from = company.status
        company.merge({ status: 'terminated', terminatedAt: termination.endsAt })
        await company.save()
        await AuditLog.record({
          action: 'company.status.changed',
          actor: null,
          companyId: company.id,
          target: { type: 'company', id: company.id },
          details: { from, to: 'terminated', reason: 'owner_termination' },
        })
        await emitter.emit('company:status_changed', {
          companyId: company.id,
          from,
          to: 'terminated',
        })
      }
      termination.carriedOutAt = now
      await termination.save()
    }
    return due.length
  }

  async #mailOwners(company: Company, kind: 'requested' | 'withdrawn', endsAt: DateTime) {
    const owners = await company
      .related('users')
      .query()
      .whereIn('role_id', Role.query().where('name', 'owner').select('id'))
    const facts = this.facts(endsAt)
    for (const owner of owners)
      await queue.dispatch(new AccountTerminationMailJob(), {
        to: owner.email,
        kind,
        companyName: company.legalName,
        lastDay: facts.lastDay.toISODate()!,
        readAccessUntil: facts.readAccessUntil.toISODate()!,
        invoicesUntil: facts.invoicesUntil.toISODate()!,
      })
  }
}
