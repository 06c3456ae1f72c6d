import { DateTime } from 'luxon'
import { lookupsChanged } from '#core/caching/lookup_changes'
import db from '@adonisjs/lucid/services/db'
import emitter from '@adonisjs/core/services/emitter'
import AuditLog from '#accounts/services/audit_log'
import { sqlTime } from '#core/sql_time'
import queue from '#core/services/queue'
import AccountEndMailJob from '#privacy/jobs/account_end_mail_job'
import { CALL_RECORD_RETENTION_MONTHS, retainedUntil } from '#privacy/personal_data_registry'

/** After termination the owner keeps read access to invoices and the data export this long. */
export const ACCOUNT_END_GRACE_DAYS = 30
const ZONE = 'Europe/Berlin'

function toDateTime(value: unknown): DateTime {
  if (value instanceof Date) return DateTime.fromJSDate(value, { zone: 'utc' })
  const text = String(value)
  const sql = DateTime.fromSQL(text, { zone: 'utc' })
  return sql.isValid ? sql : DateTime.fromISO(text, { zone: 'utc' })
}

/**
 * The end of a company's account (privacy statement: account data deleted after the account ends,
 * subject to HGB/AO retention). For a terminated company, once the grace period is over and the
 * invoice run for the month of termination has issued the final invoice:
 *  - deletes its users with everything that hangs on them (devices, web phone logins, sessions,
 *    restrictions, pending links, export archives), its invitations, its SEPA mandate and its DPA
 *    acceptances (the DPA: deleted with the company);
 *  - anonymises the company row, which stays while invoices refer to it, marked with the date the
 *    last invoice may be deleted (8 years from the end of its year, app/billing/retention.ts);
 *  - tells the owners beforehand what is kept, why and until when.
 * Later, when billing's retention job has deleted the last invoice, the company row goes too (its
 * remaining call records and audit references with it). The clock comes in the call.
 */
export default class AccountEndService {
  /** Terminated companies whose data is due for deletion at `now`. */
  async due(now: DateTime) {
    const rows = await db
      .from('companies')
      .where('status', 'terminated')
      .whereNull('account_data_deleted_at')
      .whereNotNull('terminated_at')
      .where('terminated_at', '<=', sqlTime(now.minus({ days: ACCOUNT_END_GRACE_DAYS })))
      .select('id', 'terminated_at')
    const due: number[] = []
    for (const row of rows) {
      const ended = toDateTime(row.terminated_at).setZone(ZONE)
      // The final invoice: a finished monthly run for the month of termination or a later one
      const finalRun = await db
        .from('invoice_runs')
        .where('status', 'finished')
        .where((query) =>
          query
            .where('period_year', '>', ended.year)
            .orWhere((same) =>
              same.where('period_year', ended.year).where('period_month', '>=', ended.month)
            )
        )
        .first()
      if (finalRun) due.push(Number(row.id))
    }
    return due
  }

  /** What stays of the company, why and until when (for the owners' mail and the audit entry). */
  async keptFor(companyId: number, now: DateTime) {
    const invoices = await db.from('invoices').where('company_id', companyId).select('issue_date')
    let invoicesUntil: DateTime | null = null
    for (const invoice of invoices) {
      const until = retainedUntil(
        'invoices',
        DateTime.fromISO(String(invoice.issue_date), { zone: ZONE })
      )
      if (!invoicesUntil || until > invoicesUntil) invoicesUntil = until
    }
    const latestCall = await db
      .from('call_records')
      .where('company_id', companyId)
      .max('started_at as latest')
      .first()
    const callsUntil = latestCall?.latest
      ? toDateTime(latestCall.latest).plus({ months: CALL_RECORD_RETENTION_MONTHS })
      : null
    return {
      invoices: invoices.length,
      invoicesUntil,
      callsUntil: callsUntil && callsUntil > now ? callsUntil : null,
    }
  }

  async end(companyId: number, now: DateTime) {
    const company = await db.from('companies').where('id', companyId).first()
    if (!company || company.account_data_deleted_at) return null
    const kept = await this.keptFor(companyId, now)
    const owners = await db
      .from('users')
      .join('roles', 'roles.id', 'users.role_id')
      .where('users.company_id', companyId)
      .where('roles.name', 'owner')
      .select('users.email', 'users.locale')
    const deleted = await db.transaction(async (trx) => {
      const userIds = (await trx.from('users').where('company_id', companyId).select('id')).map(
        (row) => Number(row.id)
      )
      if (userIds.length)
        await trx.from('sessions').whereIn('user_id', userIds.map(String)).delete()
      await trx.from('invitations').where('company_id', companyId).delete()
      await trx.from('payment_methods').where('company_id', companyId).delete()
      const acceptances = await trx.from('dpa_acceptances').where('company_id', companyId).delete()
      const users = await trx.from('users').where('company_id', companyId).delete()
      // Raw deletes: the calls' lookups of these rows go with the commit
      trx.after('commit', lookupsChanged)
      await trx
        .from('companies')
        .where('id', companyId)
        .update({
          legal_name: `Beendetes Konto ${companyId}`,
          vat_id: null,
          register_entry: null,
          buyer_reference: null,
          invoice_email: null,
          billing_street: '',
          billing_postal_code: '',
          billing_city: '',
          privacy_contact_name: '',
          privacy_contact_email: '',
          account_data_deleted_at: sqlTime(now),
          records_kept_until: kept.invoicesUntil ? sqlTime(kept.invoicesUntil) : null,
        })
      await AuditLog.record(
        {
          action: 'privacy.account.ended',
          actor: null,
          companyId,
          target: { type: 'company', id: companyId },
          details: {
            users: Number(users) || 0,
            dpaAcceptances: Number(acceptances) || 0,
            invoicesKept: kept.invoices,
            invoicesKeptUntil: kept.invoicesUntil?.toISODate() ?? null,
          },
        },
        { client: trx }
      )
      return { users: Number(userIds.length), acceptances: Number(acceptances) || 0 }
    })
    // calls: its numbers go back into the inventory, into quarantine (or were ported out before)
    await emitter.emit('company:account_ended', { companyId, at: now.toISO()! })
    for (const owner of owners)
      await queue.dispatch(new AccountEndMailJob(), {
        to: owner.email,
        locale: owner.locale,
        invoices: kept.invoices,
        invoicesUntil: kept.invoicesUntil?.toISODate() ?? null,
        callsUntil: kept.callsUntil?.toISODate() ?? null,
      })
    return { ...deleted, kept }
  }

  /** Deletes anonymised companies whose last invoice billing's retention job has deleted. */
  async purgeEmptied() {
    const ids = (
      await db
        .from('companies')
        .whereNotNull('account_data_deleted_at')
        .whereNotExists((query) =>
          query.from('invoices').whereColumn('invoices.company_id', 'companies.id').select('id')
        )
        .select('id')
    ).map((row) => Number(row.id))
    if (ids.length) {
      await db.from('companies').whereIn('id', ids).delete()
      lookupsChanged()
    }
    return ids.length
  }
}
