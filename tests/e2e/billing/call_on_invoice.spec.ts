import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import type B2bua from '#calls/b2bua/b2bua'
import CallRecord from '#calls/models/call_record'
import InvoiceIssuer from '#billing/services/invoice_issuer'
import { FakeVatIdChecker } from '#billing/vat_id_checker'
import { answeredCallCost, microToCents } from '#billing/tariff_arithmetic'
import { FEE_TIME_ZONE } from '#billing/monthly_fees'
import { makePriceList } from '#tests/support/billing'
import { loopbackCarriers, startB2bua } from '#tests/support/calls'
import { purgeInvoicesOf } from '#tests/support/invoices'
import { until } from '#tests/support/server_process'
import { validateCii } from '#tests/support/einvoice_validation'
import {
  expectExit,
  phoneFor,
  sippCarrier,
  sippPhoneCall,
} from '#tests/e2e/calls/b2bua_races_peers'

/**
 * The end-to-end proof of billing: a SIP phone (sipp) calls a German number through FluffyCall to
 * a sipp carrier; call:ended rates the CDR; the month's invoice run bills it on a line of its own
 * destination, with the exact cost of the CDR rounded once, in XML that passes EN 16931.
 */
test.group('Billing: a real call on the next invoice', (group) => {
  const cleanups: Array<() => unknown> = []
  let b2bua: B2bua
  group.setup(async () => {
    b2bua = await startB2bua()
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  test('a call through sipp is rated on its CDR and appears on the invoice', async ({ assert }) => {
    assert.isDefined(b2bua)
    // A destination of its own, so no other test's prices match first
    const prefix = `49305${String(Math.floor(Math.random() * 90_000) + 10_000)}`
    const list = await makePriceList(null, [
      {
        validFrom: '2026-01-01T00:00:00Z',
        rates: [
          { prefix, destination: 'Testziel Berlin', price: 123_400, fee: 5_000, increment: '1/1' },
        ],
      },
    ])
    cleanups.push(() => db.from('price_lists').where('id', list.id).delete())
    const carrier = await sippCarrier('carrier_answer_echo.xml', { echo: true, timeoutSeconds: 30 })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const phone = await phoneFor()
    await phone.company.merge({ approvedAt: DateTime.utc().minus({ days: 40 }) }).save()
    cleanups.push(() => purgeInvoicesOf([phone.company.id]))

    const callee = `+${prefix}77`
    const call = await sippPhoneCall(phone, callee, 'phone_call_out.xml', {
      pauseMs: 2000,
      timeoutSeconds: 30,
    })
    cleanups.push(call.stop)
    await expectExit(call, 0, assert)

    // The row once rated: its duration is the end's (read before the end it has none yet)
    const record = await until('the rated CDR', 15_000, async () => {
      const row = await CallRecord.query()
        .where('company_id', phone.company.id)
        .where('callee_number', callee)
        .whereNotNull('answered_at')
        .whereNotNull('rated_at')
        .first()
      const rated = row ? await db.from('call_records').where('id', row.id).first() : null
      return rated
        ? { row: row!, costMicro: Number(rated.cost_micro), rating: rated.rating as string }
        : null
    })
    assert.equal(record.rating, 'priced')
    // 1/1 increment: connection fee + 12.34 ct/min × seconds / 60, rounded up to 1/10,000 cent
    const expected = answeredCallCost(record.row.durationSeconds ?? 0, {
      pricePerMinute: 123_400,
      connectionFee: 5_000,
      firstInterval: 1,
      nextInterval: 1,
    })
    assert.equal(record.costMicro, expected)
    assert.isAtLeast(record.row.durationSeconds ?? 0, 1)

    const started = record.row.startedAt.setZone(FEE_TIME_ZONE)
    const outcome = await new InvoiceIssuer(new FakeVatIdChecker([])).issueMonthly(phone.company, {
      year: started.year,
      month: started.month,
    })
    assert.equal(outcome.outcome, 'issued')
    if (outcome.outcome !== 'issued') return
    await outcome.invoice.load('lines')
    const line = outcome.invoice.lines.find((entry) => entry.kind === 'calls')!
    assert.match(line.description, /^Verbindungen Testziel Berlin: 1 Gespräche/)
    assert.deepEqual(
      [line.quantity, line.netMicro, line.netCents],
      [1, expected, microToCents(expected)]
    )
    await outcome.invoice.load('documents')
    const xml = outcome.invoice.documents
      .find((document) => document.kind === 'xml')!
      .content.toString('utf8')
    assert.include(xml, 'Verbindungen Testziel Berlin')
    assert.deepEqual((await validateCii(xml)).failed, [])
  }).timeout(90_000)
})
