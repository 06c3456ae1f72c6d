import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { makeCompany, makeUser } from '#tests/support/accounts'
import {
  JUNE,
  RUN_TIME,
  defaultTariff,
  purgeInvoicesOf,
  ratedCall,
  seatAndNumber,
} from '#tests/support/invoices'
import InvoiceIssuer from '#billing/services/invoice_issuer'
import { FakeVatIdChecker } from '#billing/vat_id_checker'
import Invoice from '#billing/models/invoice'

/**
 * Without the global transaction: the issuers run in parallel transactions of their own (on
 * PostgreSQL each on its own connection), which is what the numbering must survive.
 */
test.group('Invoices: gapless numbers and immutability in the database', (group) => {
  const companyIds: number[] = []
  const userIds: number[] = []
  let priceListId: number | null = null

  group.setup(async () => {
    priceListId = (await defaultTariff()).id
    for (let index = 0; index < 6; index++) {
      const company = await makeCompany('active', {
        approvedAt: DateTime.fromISO('2026-01-05T09:00:00Z'),
      })
      const user = await makeUser('owner', company)
      await seatAndNumber(user, company, '2026-06-16T08:00:00+02:00', '2026-05-01T08:00:00+02:00')
      await ratedCall(user, '+4930123456', 61 + index)
      companyIds.push(company.id)
      userIds.push(user.id)
    }
  })

  group.teardown(async () => {
    await purgeInvoicesOf(companyIds)
    await db.from('call_records').whereIn('user_id', userIds).delete()
    await db.from('phone_numbers').whereIn('company_id', companyIds).delete()
    await db.from('users').whereIn('id', userIds).delete()
    await db.from('companies').whereIn('id', companyIds).delete()
    if (priceListId) await db.from('price_lists').where('id', priceListId).delete()
  })

  test('parallel runs issue one invoice per company with consecutive numbers', async ({
    assert,
  }) => {
    const companies = await (
      await import('#accounts/models/company')
    ).default
      .query()
      .whereIn('id', companyIds)
    // Every company twice, all at once: the second attempt of each must be skipped, no number lost
    const attempts = [...companies, ...companies].map((company) =>
      new InvoiceIssuer(new FakeVatIdChecker([])).issueMonthly(company, JUNE, { now: RUN_TIME })
    )
    const outcomes = await Promise.all(attempts)
    assert.equal(outcomes.filter((outcome) => outcome.outcome === 'issued').length, 6)
    assert.equal(outcomes.filter((outcome) => outcome.outcome === 'skipped').length, 6)

    const invoices = await Invoice.query().whereIn('company_id', companyIds)
    const numbers = invoices
      .map((invoice) => Number(invoice.number.split('-').pop()))
      .sort((a, b) => a - b)
    assert.lengthOf(numbers, 6)
    const sequence = await db
      .from('invoice_number_sequences')
      .where('series', 'RE-2026')
      .firstOrFail()
    // consecutive, and the last one is the series' counter: nothing was taken and given up
    assert.deepEqual(
      numbers,
      numbers.map((_, index) => numbers[0] + index)
    )
    assert.equal(numbers.at(-1), Number(sequence.last_value))
  }).timeout(120_000)

  test('on PostgreSQL the trigger refuses changes and deletes beside the status', async ({
    assert,
  }) => {
    const invoice = await Invoice.query().whereIn('company_id', companyIds).firstOrFail()
    await assert.rejects(
      () => db.from('invoices').where('id', invoice.id).update({ gross_cents: 1 }),
      /immutable/
    )
    await assert.rejects(
      () => db.from('invoice_lines').where('invoice_id', invoice.id).update({ net_cents: 0 }),
      /immutable/
    )
    await assert.rejects(
      () => db.from('invoice_documents').where('invoice_id', invoice.id).update({ sha256: 'x' }),
      /immutable/
    )
    await assert.rejects(
      () => db.from('invoices').where('id', invoice.id).delete(),
      /cannot be deleted/
    )
    await db.from('invoices').where('id', invoice.id).update({ status: 'paid' })
    assert.equal((await Invoice.findOrFail(invoice.id)).status, 'paid')
  }).skip(
    db.connection().dialect.name !== 'postgres',
    'the trigger exists on PostgreSQL only (migration 0611)'
  )
})
