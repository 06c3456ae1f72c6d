import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import { DateTime } from 'luxon'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { defaultTariff, ratedCall, seatAndNumber } from '#tests/support/invoices'
import MonthlyInvoiceRunJob from '#billing/jobs/monthly_invoice_run_job'
import InvoiceRun from '#billing/models/invoice_run'
import Invoice from '#billing/models/invoice'

/** The scheduled job: from 03:00 Berlin on the first, the previous month, once. */
test.group('Invoices: the scheduled monthly run', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('waits for 03:00 on the first, then bills the previous month once; companies approved later are left out', async ({
    assert,
  }) => {
    await defaultTariff()
    const company = await makeCompany('active', {
      approvedAt: DateTime.fromISO('2026-01-05T09:00:00Z'),
    })
    const owner = await makeUser('owner', company)
    await seatAndNumber(owner, company, '2026-06-16T08:00:00+02:00', '2026-05-01T08:00:00+02:00')
    await ratedCall(owner, '+4930123456', 61)
    const latecomer = await makeCompany('active', {
      approvedAt: DateTime.fromISO('2026-07-01T09:00:00Z'),
    })
    const job = new MonthlyInvoiceRunJob()
    const runs = () => InvoiceRun.query().where('period_year', 2026).where('period_month', 6)

    await job.handle({ now: '2026-07-01T00:30:00Z' }) // 02:30 in Berlin
    assert.lengthOf(await runs(), 0)
    await job.handle({ now: '2026-07-01T01:05:00Z' }) // 03:05 in Berlin
    const [run] = await runs()
    assert.equal(run.status, 'finished')
    assert.isNull(run.startedById)
    assert.deepInclude(
      run.results.find((result) => result.companyId === company.id)!,
      { outcome: 'issued' }
    )
    assert.isUndefined(run.results.find((result) => result.companyId === latecomer.id))
    await job.handle({ now: '2026-07-01T02:05:00Z' })
    assert.lengthOf(await runs(), 1)
    const invoices = await Invoice.query().where('company_id', company.id)
    assert.lengthOf(invoices, 1)
    assert.equal(invoices[0].invoiceRunId, run.id)
  }).timeout(60_000)
})
