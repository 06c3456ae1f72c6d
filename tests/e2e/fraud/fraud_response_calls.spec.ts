import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import CallRecord from '#calls/models/call_record'
import Alert from '#core/alerts/alert'
import type B2bua from '#calls/b2bua/b2bua'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import fraudConfig from '#config/fraud'
import FraudCompanyPolicy from '#fraud/models/fraud_company_policy'
import FraudReviewCase from '#fraud/models/fraud_review_case'
import FraudReviewService from '#fraud/services/fraud_review_service'
import { makeUser } from '#tests/support/accounts'
import { makePriceList } from '#tests/support/billing'
import { endOnceTalking, completedCdr, loopbackCarriers, startB2bua } from '#tests/support/calls'
import { startSipp } from '#tests/support/sip_peers'
import { until } from '#tests/support/server_process'
import {
  expectExit,
  phoneFor,
  sipUdpPort,
  sippCarrier,
  sippPhoneCall,
} from '#tests/e2e/calls/b2bua_races_peers'

/**
 * The automatic response against real sipp phones and carriers: a burst of calls from one SIP
 * phone to a high-risk country (each refused by the gate, each a CDR) is analysed in the
 * background, suspends the company's international calling and queues it for review; 112 still
 * connects; once staff clear the case, an international call connects again. And a call ended at
 * the company's daily spend cap.
 */
test.group('Fraud response: a burst from a SIP phone', (group) => {
  const cleanups: Array<() => unknown> = []
  let b2bua: B2bua
  group.setup(async () => {
    b2bua = await startB2bua()
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  test('a burst to Sierra Leone suspends the company and queues it; 112 passes; clearing lets calls through', async ({
    assert,
  }) => {
    const carrier = await startSipp({
      scenario: 'carrier_answer_echo.xml',
      transport: 'u1',
      calls: 2,
      timeoutSeconds: 60,
      traceMessages: true,
      extraArgs: ['-rtp_echo'],
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const phone = await phoneFor()
    const burst = fraudConfig.detection.rareCountryBurst.critical

    const port = await sipUdpPort()
    const calls = await startSipp({
      scenario: 'phone_call_forbidden.xml',
      transport: 'u1',
      target: `127.0.0.1:${port}`,
      localIp: '127.0.0.2',
      calls: burst,
      timeoutSeconds: 40,
      traceMessages: true,
      keys: { domain: configuredRealm(), callee: '+23276123456' },
      extraArgs: [
        '-auth_uri',
        `+23276123456@127.0.0.1:${port}`,
        '-r',
        '5',
        '-s',
        phone.username,
        '-au',
        phone.username,
        '-ap',
        phone.password,
      ],
    })
    cleanups.push(calls.stop)
    await expectExit(calls, 0, assert)
    assert.match(calls.messages(), /SIP\/2\.0 403 Destination blocked: high_risk/)

    const reviewCase = await until('the company queued for review', 20_000, () =>
      FraudReviewCase.query().where('company_id', phone.company.id).where('status', 'open').first()
    )
    assert.equal(
      (await FraudCompanyPolicy.findByOrFail('companyId', phone.company.id)).outboundSuspension,
      'international_premium'
    )
    assert.lengthOf(
      await CallRecord.query()
        .where('company_id', phone.company.id)
        .where('disconnect_cause', 'refused'),
      burst
    )
    const alertKey = `fraud:rare_country_burst:company:${phone.company.id}:SL`
    const alert = await Alert.query().where('key', alertKey).firstOrFail()
    assert.deepInclude(alert.serialize(), {
      kind: 'fraud_rare_country_burst',
      severity: 'critical',
      status: 'open',
      companyId: phone.company.id,
    })
    assert.deepInclude(alert.facts, { country: 'SL', calls: burst, refused: burst })

    const suspended = await sippPhoneCall(phone, '+431234567', 'phone_call_forbidden.xml')
    cleanups.push(suspended.stop)
    await expectExit(suspended, 0, assert)
    assert.match(suspended.messages(), /SIP\/2\.0 403 Outbound calls suspended/)

    const emergency = await sippPhoneCall(phone, '112', 'phone_call_until_bye.xml', {
      timeoutSeconds: 40,
    })
    cleanups.push(emergency.stop)
    const emergencyCall = await until('the emergency call answered', 15_000, async () =>
      CallRecord.query()
        .where('company_id', phone.company.id)
        .where('callee_number', '112')
        .whereNotNull('answered_at')
        .whereNull('ended_at')
        .first()
    )
    await endOnceTalking(emergencyCall.uuid, b2bua)
    await expectExit(emergency, 0, assert)

    const analyst = await makeUser('fraud_analyst')
    await new FraudReviewService().clear(reviewCase, {
      actor: analyst,
      ip: '127.0.0.1',
      reason: 'Calls were a test of the customer.',
    })
    assert.equal((await Alert.query().where('key', alertKey).firstOrFail()).status, 'cleared')
    const vienna = await sippPhoneCall(phone, '+431234567', 'phone_call_until_bye.xml', {
      timeoutSeconds: 40,
    })
    cleanups.push(vienna.stop)
    const viennaCall = await until('the call to Vienna answered', 15_000, async () =>
      CallRecord.query()
        .where('company_id', phone.company.id)
        .where('callee_number', '+431234567')
        .whereNotNull('answered_at')
        .whereNull('ended_at')
        .first()
    )
    await endOnceTalking(viennaCall.uuid, b2bua)
    await expectExit(vienna, 0, assert)
    await expectExit(carrier, 0, assert)
    assert.equal(
      (carrier.messages().match(/^INVITE sip:/gm) ?? []).length,
      2,
      '112 and Vienna reached the carrier, nothing of the burst'
    )
    await (await app.container.make('jobs.queue')).drain()
  }).timeout(120_000)

  test('a call is ended when the daily spend cap is reached; the CDR says spend_cap', async ({
    assert,
  }) => {
    const carrier = await sippCarrier('carrier_answer_echo.xml', { echo: true, timeoutSeconds: 30 })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const phone = await phoneFor()
    // Vienna at 0.20 €/min and a daily cap of 0.006667 €: two seconds of budget
    await makePriceList(phone.company.id, [
      { validFrom: '2020-01-01T00:00:00', rates: [{ prefix: '43', price: 200_000 }] },
    ])
    await FraudCompanyPolicy.create({
      companyId: phone.company.id,
      allowedCountries: fraudConfig.allowedCountries,
      enabledRiskClasses: [],
      outboundSuspension: 'none',
      limits: { spend: { dailyCapMicro: 6_667 } },
    })
    ;(await app.container.make('fraud.policies')).forgetCompany(phone.company.id)

    // The phone never hangs up: only our BYE ends its scenario.
    const call = await sippPhoneCall(phone, '+431234567', 'phone_call_until_bye.xml', {
      timeoutSeconds: 30,
    })
    cleanups.push(call.stop)
    await expectExit(call, 0, assert)
    await expectExit(carrier, 0, assert)
    const record = await completedCdr()
    assert.equal(record.companyId, phone.company.id)
    assert.isNotNull(record.answeredAt)
    assert.equal(record.disconnectCause, 'spend_cap')
    assert.equal(record.hungUpBy, 'system')
    assert.isAtMost(record.durationSeconds!, 3)
  }).timeout(60_000)
})
