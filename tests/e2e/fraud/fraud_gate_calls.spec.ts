import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import type Company from '#accounts/models/company'
import CallRecord from '#calls/models/call_record'
import type B2bua from '#calls/b2bua/b2bua'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import FraudCompanyPolicy, {
  type FraudLimitOverrides,
  type OutboundSuspension,
} from '#fraud/models/fraud_company_policy'
import fraudConfig from '#config/fraud'
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
 * The fraud gate against real sipp phones and carriers: a premium number refused with its reason
 * before any carrier hears of it, twelve calls at once from one device cut at the device's limit,
 * 112 while the company is suspended for outbound calls, and a call ended at its maximum duration.
 */

async function policyFor(
  company: Company,
  values: { suspension?: OutboundSuspension; limits?: FraudLimitOverrides }
) {
  await FraudCompanyPolicy.create({
    companyId: company.id,
    allowedCountries: fraudConfig.allowedCountries,
    enabledRiskClasses: [],
    outboundSuspension: values.suspension ?? 'none',
    limits: values.limits ?? {},
  })
  ;(await app.container.make('fraud.policies')).forgetCompany(company.id)
}

test.group('Fraud gate: calls from SIP phones', (group) => {
  const cleanups: Array<() => unknown> = []
  let b2bua: B2bua
  group.setup(async () => {
    b2bua = await startB2bua()
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  test('a call to a German 0900 number is refused 403 with its reason and never reaches the carrier', async ({
    assert,
  }) => {
    const carrier = await sippCarrier('carrier_answer_echo.xml', { echo: true, timeoutSeconds: 20 })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const phone = await phoneFor()

    const call = await sippPhoneCall(phone, '+499001234567', 'phone_call_forbidden.xml')
    cleanups.push(call.stop)
    await expectExit(call, 0, assert)
    assert.match(call.messages(), /SIP\/2\.0 403 Destination blocked: premium_rate/)

    const record = await completedCdr()
    assert.equal(record.calleeNumber, '+499001234567')
    assert.equal(record.disconnectCause, 'refused')
    assert.equal(record.sipStatus, 403)
    assert.isNull(record.carrierName)
    assert.notMatch(carrier.messages(), /INVITE sip:/, 'the carrier got no INVITE')
  }).timeout(60_000)

  test('twelve calls at once from one device: two (the device limit) connect, ten are refused', async ({
    assert,
  }) => {
    const carrier = await startSipp({
      scenario: 'carrier_answer_echo.xml',
      transport: 'u1',
      calls: 2,
      timeoutSeconds: 40,
      traceMessages: true,
      extraArgs: ['-rtp_echo'],
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const phone = await phoneFor()
    await policyFor(phone.company, { limits: { device: { concurrent: 2 } } })

    const port = await sipUdpPort()
    const calls = await startSipp({
      scenario: 'phone_calls_limited.xml',
      transport: 'u1',
      target: `127.0.0.1:${port}`,
      localIp: '127.0.0.2',
      calls: 12,
      timeoutSeconds: 40,
      traceMessages: true,
      keys: { domain: configuredRealm(), callee: '+4930500100' },
      extraArgs: [
        '-auth_uri',
        `+4930500100@127.0.0.1:${port}`,
        '-r',
        '12',
        '-l',
        '12',
        '-s',
        phone.username,
        '-au',
        phone.username,
        '-ap',
        phone.password,
      ],
    })
    cleanups.push(calls.stop)

    const refused = await until('ten refused calls', 20_000, async () => {
      const rows = await CallRecord.query()
        .where('company_id', phone.company.id)
        .where('disconnect_cause', 'refused')
      return rows.length >= 10 ? rows : null
    })
    const running = await until('two answered calls', 20_000, async () => {
      const rows = await CallRecord.query()
        .where('company_id', phone.company.id)
        .whereNotNull('answered_at')
        .whereNull('ended_at')
      return rows.length >= 2 ? rows : null
    })
    assert.lengthOf(refused, 10)
    assert.isTrue(
      refused.every((record) => record.sipStatus === 403 && record.carrierName === null)
    )
    assert.lengthOf(running, 2)
    // The phones' trace holds retransmissions too: the CDRs count the calls, the trace the phrase.
    assert.match(calls.messages(), /SIP\/2\.0 403 Too many concurrent calls/)
    assert.notMatch(calls.messages(), /SIP\/2\.0 403 (?!Too many concurrent calls)/)

    for (const record of running) await b2bua.end(record.uuid)
    await expectExit(calls, 0, assert)
    await expectExit(carrier, 0, assert)
    assert.lengthOf(await CallRecord.query().where('company_id', phone.company.id), 12)
    assert.equal(
      (carrier.messages().match(/^INVITE sip:/gm) ?? []).length,
      2,
      'two INVITEs reached the carrier'
    )
  }).timeout(90_000)

  test('112 connects while the company is suspended for all outbound calls', async ({ assert }) => {
    const carrier = await sippCarrier('carrier_answer_echo.xml', { echo: true, timeoutSeconds: 40 })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const phone = await phoneFor()
    await policyFor(phone.company, { suspension: 'all' })

    const refused = await sippPhoneCall(phone, '+4930500200', 'phone_call_forbidden.xml')
    cleanups.push(refused.stop)
    await expectExit(refused, 0, assert)
    assert.match(refused.messages(), /SIP\/2\.0 403 Outbound calls suspended/)

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

  test('a call is ended by FluffyCall at the maximum duration; the CDR says max_duration', async ({
    assert,
  }) => {
    const carrier = await sippCarrier('carrier_answer_echo.xml', { echo: true, timeoutSeconds: 30 })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const phone = await phoneFor()
    await policyFor(phone.company, { limits: { maxDurationSeconds: 2 } })

    // The phone never hangs up: only our BYE ends its scenario.
    const call = await sippPhoneCall(phone, '+4930500300', 'phone_call_until_bye.xml', {
      timeoutSeconds: 30,
    })
    cleanups.push(call.stop)
    await expectExit(call, 0, assert)
    await expectExit(carrier, 0, assert)

    const record = await completedCdr()
    assert.equal(record.companyId, phone.company.id)
    assert.isNotNull(record.answeredAt)
    assert.equal(record.disconnectCause, 'max_duration')
    assert.equal(record.hungUpBy, 'system')
  }).timeout(60_000)
})
