import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import CallRecord from '#calls/models/call_record'
import PriceListVersion from '#billing/models/price_list_version'
import RatingService from '#billing/services/rating_service'
import { makePriceList } from '#tests/support/billing'

/** June 2026 and the moment the July run issues it (Berlin 07:00 on 1 July). */
export const JUNE = { year: 2026, month: 6 }
export const RUN_TIME = DateTime.fromISO('2026-07-01T05:00:00Z') as DateTime<true>

/** The default list of these tests: landline 0.89 ct/min (60/1), mobile 9.9 ct/min + 1.5 ct (60/60), seat 4.99 EUR, number 1 EUR. */
export async function defaultTariff() {
  const list = await makePriceList(null, [
    {
      validFrom: '2026-01-01T00:00:00Z',
      rates: [
        { prefix: '49', destination: 'Deutschland Festnetz', price: 8_900, increment: '60/1' },
        {
          prefix: '4915',
          destination: 'Deutschland Mobil',
          price: 99_000,
          fee: 15_000,
          increment: '60/60',
        },
      ],
    },
  ])
  await PriceListVersion.query()
    .where('price_list_id', list.id)
    .update({ seat_fee_per_month: 4_990_000, number_fee_per_month: 1_000_000 })
  return list
}

/** An answered outbound call of the user, rated like call:ended does. */
export async function ratedCall(
  user: User,
  calleeNumber: string,
  durationSeconds: number,
  startedAt = DateTime.fromISO('2026-06-15T10:00:00Z')
) {
  const record = await CallRecord.create({
    uuid: randomUUID(),
    companyId: user.companyId,
    userId: user.id,
    direction: 'outbound',
    emergency: false,
    callerNumber: '+493011110000',
    calleeNumber,
    callerWithheld: false,
    startedAt,
    answeredAt: startedAt.plus({ seconds: 2 }),
    endedAt: startedAt.plus({ seconds: 2 + durationSeconds }),
    durationSeconds,
    sipStatus: 200,
    disconnectCause: 'answered_normal',
    hungUpBy: 'caller',
  })
  await new RatingService().rate(record)
  return record
}

/** A seat from `since` and a number assigned from `numberSince`. */
export async function seatAndNumber(
  user: User,
  company: Company,
  since: string,
  numberSince: string
) {
  await db
    .from('users')
    .where('id', user.id)
    .update({
      created_at: DateTime.fromISO(since).toUTC().toFormat(db.connection().dialect.dateTimeFormat),
    })
  const now = DateTime.utc().toFormat(db.connection().dialect.dateTimeFormat)
  await db.table('phone_numbers').insert({
    number: `+4930${String(company.id).padStart(4, '0')}${Math.floor(Math.random() * 1e5)
      .toString()
      .padStart(5, '0')}`,
    carrier_name: 'test',
    company_id: company.id,
    assigned_at: DateTime.fromISO(numberSince)
      .toUTC()
      .toFormat(db.connection().dialect.dateTimeFormat),
    created_at: now,
    updated_at: now,
  })
}

/**
 * Removes the invoices of the given companies the way the retention job will (the PostgreSQL
 * trigger lets a delete through only with fluffycall.invoice_purge set in the transaction), then
 * the companies' other test data.
 */
export async function purgeInvoicesOf(companyIds: number[]) {
  await db.transaction(async (trx) => {
    if (trx.dialect.name === 'postgres')
      await trx.rawQuery("set local fluffycall.invoice_purge = 'on'")
    const ids = (await trx.from('invoices').whereIn('company_id', companyIds).select('id')).map(
      (row) => row.id
    )
    await trx.from('invoice_documents').whereIn('invoice_id', ids).delete()
    await trx.from('invoice_lines').whereIn('invoice_id', ids).delete()
    // cancellations first: they refer to the invoice they cancel
    await trx.from('invoices').whereIn('id', ids).whereNotNull('preceding_invoice_id').delete()
    await trx.from('invoices').whereIn('id', ids).delete()
  })
}
