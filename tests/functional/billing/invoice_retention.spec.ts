import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { JUNE, RUN_TIME, defaultTariff, ratedCall, seatAndNumber } from '#tests/support/invoices'
import InvoiceIssuer from '#billing/services/invoice_issuer'
import InvoiceRetentionJob from '#billing/jobs/invoice_retention_job'
import { FakeVatIdChecker } from '#billing/vat_id_checker'
import { RETENTION_PERIODS, retainedUntil } from '#billing/retention'

/** Invoices are kept 8 years from the end of the year of issue, then deleted with their documents. */
test.group('Invoices: retention', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('periods are data, counted from the end of the calendar year', ({ assert }) => {
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(RETENTION_PERIODS).map(([kind, period]) => [kind, period.years])
      ),
      {
        invoices: 8,
        booking_vouchers: 8,
        books: 10,
        business_letters: 6,
      }
    )
    // Issued on 1 January 2026 or on 31 December 2026 (Berlin): deletable from 1 January 2035
    assert.equal(
      retainedUntil('invoices', DateTime.fromISO('2026-01-01T00:10:00+01:00')).toISO(),
      '2035-01-01T00:00:00.000+01:00'
    )
    assert.equal(
      retainedUntil('invoices', DateTime.fromISO('2026-12-31T23:30:00Z')).toISO(),
      '2036-01-01T00:00:00.000+01:00'
    )
    assert.equal(retainedUntil('books', DateTime.fromISO('2026-06-01T00:00:00Z')).year, 2037)
  })

  test('the job deletes an invoice after its period; one a younger Stornorechnung refers to waits for it', async ({
    assert,
  }) => {
    await defaultTariff()
    const issuer = new InvoiceIssuer(new FakeVatIdChecker([]))
    const issued = []
    for (let index = 0; index < 2; index++) {
      const company = await makeCompany('active', {
        approvedAt: DateTime.fromISO('2026-01-05T09:00:00Z'),
      })
      const owner = await makeUser('owner', company)
      await seatAndNumber(owner, company, '2026-06-16T08:00:00+02:00', '2026-05-01T08:00:00+02:00')
      await ratedCall(owner, '+4930123456', 61)
      const outcome = await issuer.issueMonthly(company, JUNE, { now: RUN_TIME })
      if (outcome.outcome === 'issued') issued.push(outcome.invoice)
    }
    const [plain, cancelledLater] = issued
    const storno = await issuer.cancel(
      cancelledLater,
      DateTime.fromISO('2027-02-01T10:00:00Z') as DateTime<true>
    )
    const remaining = async () =>
      (
        await db
          .from('invoices')
          .whereIn('id', [plain.id, cancelledLater.id, storno.id])
          .select('id')
          .orderBy('id')
      ).map((row) => Number(row.id))
    const job = new InvoiceRetentionJob()

    await job.handle({ now: '2034-12-31T22:59:00Z' })
    assert.deepEqual(await remaining(), [plain.id, cancelledLater.id, storno.id])
    await job.handle({ now: '2034-12-31T23:01:00Z' }) // 1 January 2035, 00:01 in Berlin
    assert.deepEqual(await remaining(), [cancelledLater.id, storno.id])
    assert.equal(
      Number(
        (await db.from('invoice_documents').where('invoice_id', plain.id).count('* as total'))[0]
          .total
      ),
      0
    )
    assert.equal(
      Number(
        (await db.from('invoice_lines').where('invoice_id', plain.id).count('* as total'))[0].total
      ),
      0
    )
    await job.handle({ now: '2036-01-01T12:00:00Z' })
    assert.deepEqual(await remaining(), [])
  }).timeout(60_000)
})
