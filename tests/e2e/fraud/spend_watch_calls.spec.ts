import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import { FakeClock, SystemClock } from '#sip'
import type B2bua from '#calls/b2bua/b2bua'
import CallRecord from '#calls/models/call_record'
import FraudCompanyPolicy from '#fraud/models/fraud_company_policy'
import fraudConfig from '#config/fraud'
import { loopbackCarriers, startB2bua } from '#tests/support/calls'
import { makePriceList } from '#tests/support/billing'
import { startSipp } from '#tests/support/sip_peers'
import { until } from '#tests/support/server_process'
import { expectExit, phoneFor, sippPhoneCall } from '#tests/e2e/calls/b2bua_races_peers'

/**
 * A company's daily cap over two calls running at once from a real SIP phone (sipp): each call's
 * budget at admission counts only what was spent and accrued then, so together they would run
 * past the cap; the spend watch gives both their end when the cap is reached. The calls' timers
 * run on a FakeClock, so an end can only come from the admission budget (not reached) or the watch.
 */
test.group('Fraud: spend caps over running calls (sipp phone)', (group) => {
  let b2bua: B2bua
  group.setup(async () => {
    b2bua = await startB2bua()
  })

  test('two calls at once: the watch ends both when together they reach the cap, long before their own budgets; CDRs spend_cap', async ({
    assert,
    cleanup,
  }) => {
    const clock = new FakeClock(Date.now())
    b2bua.useClock(clock)
    cleanup(() => b2bua.useClock(new SystemClock()))
    // The periodic check runs on the FakeClock too: on the system clock it could come between the
    // check below and the advance, with more accrued by then, and end the calls before the advance.
    const watch = await app.container.make('fraud.spend_watch')
    watch.start(clock)
    cleanup(() => void watch.start(new SystemClock()))
    const carrier = await startSipp({
      scenario: 'carrier_answer_echo.xml',
      transport: 'u1',
      calls: 2,
      timeoutSeconds: 40,
      traceMessages: true,
      extraArgs: ['-rtp_echo'],
    })
    cleanup(carrier.stop)
    cleanup(await loopbackCarriers({ first: carrier.port }))
    const phone = await phoneFor()
    // Vienna at 0.20 €/min, a daily cap of 0.04 €: 12 s for one call alone, 6 s for two together
    await makePriceList(phone.company.id, [
      { validFrom: '2020-01-01T00:00:00', rates: [{ prefix: '43', price: 200_000 }] },
    ])
    await FraudCompanyPolicy.create({
      companyId: phone.company.id,
      allowedCountries: fraudConfig.allowedCountries,
      enabledRiskClasses: [],
      outboundSuspension: 'none',
      limits: { spend: { dailyCapMicro: 40_000 } },
    })
    ;(await app.container.make('fraud.policies')).forgetCompany(phone.company.id)
    // Ids come again after the test database is rebuilt; Redis keeps counters across runs
    const counters = await app.container.make('counters')
    const spend = await app.container.make('fraud.spend')
    for (const subject of [`company:${phone.company.id}`, `user:${phone.user.id}`]) {
      const keys = spend.keys(subject, phone.company.timeZone ?? fraudConfig.timeZone, Date.now())
      await counters.reset(keys.day)
      await counters.reset(keys.month)
    }

    const answered = (count: number) =>
      until(`${count} answered`, 15_000, async () => {
        const rows = await CallRecord.query()
          .where('company_id', phone.company.id)
          .whereNotNull('answered_at')
          .whereNull('ended_at')
        return rows.length >= count ? rows : null
      })
    const first = await sippPhoneCall(phone, '+431234567', 'phone_call_until_bye.xml', {
      timeoutSeconds: 40,
    })
    cleanup(first.stop)
    await answered(1)
    const second = await sippPhoneCall(phone, '+431234568', 'phone_call_until_bye.xml', {
      timeoutSeconds: 40,
    })
    cleanup(second.stop)
    const running = await answered(2)

    const ends = await watch.check(phone.company.id)
    assert.sameMembers(
      [...ends.keys()],
      running.map((record) => record.uuid)
    )
    const latest = Math.max(...ends.values())
    assert.isBelow(latest, 6000, 'together: at most 6 s of the 0.04 € left')
    assert.isAbove(latest, 1000)

    clock.advance(latest - 100)
    // Not ending either (isLive stays true until an end's CDR is written)
    const ending = () =>
      running.filter(
        (record) =>
          b2bua.calls.find((call) => call.record.uuid === record.uuid)?.session.ended !== false
      )
    assert.deepEqual(ending(), [], 'both still running just before the cap')
    clock.advance(100)
    assert.lengthOf(ending(), 2, 'both ending at the cap')
    await expectExit(first, 0, assert)
    await expectExit(second, 0, assert)
    await expectExit(carrier, 0, assert)
    // The CDRs are closed after the BYEs went out
    const records = await until('both CDRs closed', 10_000, async () => {
      const rows = await CallRecord.query()
        .where('company_id', phone.company.id)
        .whereNotNull('ended_at')
      return rows.length === 2 ? rows : null
    })
    for (const record of records) {
      assert.equal(record.disconnectCause, 'spend_cap')
      assert.equal(record.hungUpBy, 'system')
    }
  }).timeout(60_000)
})
