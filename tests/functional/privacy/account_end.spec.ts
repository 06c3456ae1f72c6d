import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { JUNE, RUN_TIME, defaultTariff, ratedCall, seatAndNumber } from '#tests/support/invoices'
import { auditMark, auditSince } from '#tests/support/audit'
import { drainJobs } from '#tests/support/jobs'
import { lastMailTo } from '#tests/support/mail'
import InvoiceIssuer from '#billing/services/invoice_issuer'
import InvoiceRetentionJob from '#billing/jobs/invoice_retention_job'
import { FakeVatIdChecker } from '#billing/vat_id_checker'
import AccountEndJob from '#privacy/jobs/account_end_job'

const count = async (table: string, column: string, value: number) =>
  Number((await db.from(table).where(column, value).count('* as n').first())?.n ?? 0)

/**
 * Account end: 30 days after termination and once the final invoice is issued, a company's users,
 * invitations, SEPA mandate and DPA acceptances are deleted and the company row anonymised; the
 * invoices stay until their HGB/AO retention ends, then the company row goes too. The owner is told
 * what is kept and until when. Decided on an injected clock.
 */
test.group('Privacy: account end', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('deletes the account data when due, keeps the invoices, and goes with the last invoice', async ({
    assert,
  }) => {
    await defaultTariff()
    const company = await makeCompany('active', {
      approvedAt: DateTime.fromISO('2026-01-05T09:00:00Z'),
    })
    const owner = await makeUser('owner', company)
    const member = await makeUser('member', company)
    await seatAndNumber(owner, company, '2026-06-16T08:00:00+02:00', '2026-05-01T08:00:00+02:00')
    await ratedCall(owner, '+4930123456', 61)
    const outcome = await new InvoiceIssuer(new FakeVatIdChecker([])).issueMonthly(company, JUNE, {
      now: RUN_TIME,
    })
    assert.equal(outcome.outcome, 'issued')
    assert.isAbove(await count('dpa_acceptances', 'company_id', company.id), 0)
    company.merge({ status: 'terminated', terminatedAt: DateTime.fromISO('2026-06-20T10:00:00Z') })
    await company.save()
    const job = new AccountEndJob()
    const mark = await auditMark()

    await job.handle({ now: '2026-07-10T00:00:00Z' })
    assert.equal(await count('users', 'company_id', company.id), 2, 'within the grace period')

    await job.handle({ now: '2026-07-25T00:00:00Z' })
    assert.equal(await count('users', 'company_id', company.id), 2, 'waits for the final invoice')

    await db.table('invoice_runs').insert({
      period_year: 2026,
      period_month: 6,
      status: 'finished',
      started_at: '2026-07-01 02:00:00',
      finished_at: '2026-07-01 02:05:00',
    })
    await job.handle({ now: '2026-07-25T00:00:00Z' })
    assert.equal(await count('users', 'company_id', company.id), 0)
    assert.equal(await count('dpa_acceptances', 'company_id', company.id), 0)
    assert.equal(await count('payment_methods', 'company_id', company.id), 0)
    assert.equal(await count('invoices', 'company_id', company.id), 1, 'the invoice stays')
    const row = await db.from('companies').where('id', company.id).firstOrFail()
    assert.equal(row.legal_name, `Beendetes Konto ${company.id}`)
    assert.equal(row.privacy_contact_email, '')
    assert.isNotNull(row.account_data_deleted_at)
    assert.lengthOf(await auditSince(mark).where('action', 'privacy.account.ended'), 1)
    await drainJobs()
    const mail = await lastMailTo(owner.email)
    assert.include(mail!.html, '2035-01-01', 'the owner is told until when the invoice is kept')
    assert.include(mail!.html, 'HGB § 257')
    assert.isNull(await lastMailTo(member.email), 'owners only')

    // Nothing more while the invoice is kept; then it goes with the company row
    await job.handle({ now: '2030-01-01T00:00:00Z' })
    assert.isNotNull(await db.from('companies').where('id', company.id).first())
    await new InvoiceRetentionJob().handle({ now: '2035-01-02T00:00:00Z' })
    await job.handle({ now: '2035-01-02T00:00:00Z' })
    assert.isNull(await db.from('companies').where('id', company.id).first())
  })
})
