import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import { DateTime } from 'luxon'
import CallRecord from '#calls/models/call_record'
import type B2bua from '#calls/b2bua/b2bua'
import PaymentStatusService from '#billing/payments/services/payment_status_service'
import { endOnceTalking, loopbackCarriers, startB2bua } from '#tests/support/calls'
import { makePayable } from '#tests/support/payments'
import { until } from '#tests/support/server_process'
import {
  expectExit,
  phoneFor,
  sippCarrier,
  sippPhoneCall,
} from '#tests/e2e/calls/b2bua_races_peers'

/**
 * A company suspended for an overdue invoice, against real sipp peers: an ordinary call is refused
 * with the payment reason before any carrier hears of it, 112 still connects (§ 164 TKG).
 */
test.group('Payments: outbound calls of an overdue company', (group) => {
  const cleanups: Array<() => unknown> = []
  let b2bua: B2bua
  group.setup(async () => {
    b2bua = await startB2bua()
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  test('suspended for late payment: a call is refused 403, 112 connects', async ({ assert }) => {
    const carrier = await sippCarrier('carrier_answer_echo.xml', { echo: true, timeoutSeconds: 40 })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const phone = await phoneFor()
    const payable = await makePayable(phone.company, 11_900, '2026-10-01', '2026-10-15')
    const now = DateTime.fromISO('2026-11-20T09:00:00Z', { zone: 'utc' })
    const result = await (
      await app.container.make(PaymentStatusService)
    )
      .use({ now: () => now, queue: { dispatch: async () => {} } as any })
      .run()
    assert.deepEqual(result.suspended, [phone.company.id])
    cleanups.push(() => payable.delete())

    const refused = await sippPhoneCall(phone, '+4930500200', 'phone_call_forbidden.xml')
    cleanups.push(refused.stop)
    await expectExit(refused, 0, assert)
    assert.match(refused.messages(), /SIP\/2\.0 403 Payment overdue: outbound calls suspended/)
    assert.notMatch(
      carrier.messages(),
      /INVITE sip:\+4930500200/,
      'the carrier got no INVITE for it'
    )

    const emergency = await sippPhoneCall(phone, '112', 'phone_call_until_bye.xml', {
      timeoutSeconds: 40,
    })
    cleanups.push(emergency.stop)
    const call = await until('the emergency call answered', 15_000, async () =>
      CallRecord.query()
        .where('company_id', phone.company.id)
        .where('callee_number', '112')
        .whereNotNull('answered_at')
        .whereNull('ended_at')
        .first()
    )
    assert.isTrue(call.emergency)
    await endOnceTalking(call.uuid, b2bua)
    await expectExit(emergency, 0, assert)
    await expectExit(carrier, 0, assert)
  }).timeout(90_000)
})
