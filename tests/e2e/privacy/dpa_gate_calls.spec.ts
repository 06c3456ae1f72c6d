import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import CallRecord from '#calls/models/call_record'
import SipDeviceService from '#calls/services/sip_device_service'
import DpaService from '#privacy/dpa/dpa_service'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { endOnceTalking, loopbackCarriers, ourNumber, startB2bua } from '#tests/support/calls'
import { freePort, startSipp } from '#tests/support/sip_peers'
import { until } from '#tests/support/server_process'
import { expectExit, receivedStatuses, sippPhoneCall } from '#tests/e2e/calls/b2bua_races_peers'
import type B2bua from '#calls/b2bua/b2bua'

/**
 * The DPA gate against real sipp peers: a company whose owner has not accepted the DPA gets 403
 * with the reason on a call from its SIP phone (the carrier hears nothing) and on a carrier's call
 * to its number, while 112 connects; once the owner accepts, the same phone's call connects.
 */
async function companyWithoutDpa() {
  const company = await makeCompany('active', {}, { dpaAccepted: false })
  const owner = await makeUser('owner', company)
  const user = await makeUser('member', company)
  const { device, password } = await new SipDeviceService().create(user, 'Desk phone')
  return { company, owner, user, username: device.sipUsername, password }
}

test.group('DPA gate: calls from SIP phones and carriers', (group) => {
  const cleanups: Array<() => unknown> = []
  let b2bua: B2bua
  group.setup(async () => {
    b2bua = await startB2bua()
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  test('refused 403 until the owner accepts, 112 always; then the call connects', async ({
    assert,
  }) => {
    const carrier = await startSipp({
      scenario: 'carrier_answer_echo.xml',
      transport: 'u1',
      calls: 2,
      timeoutSeconds: 50,
      traceMessages: true,
      extraArgs: ['-rtp_echo'],
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const phone = await companyWithoutDpa()

    const refused = await sippPhoneCall(phone, '+4930500200', 'phone_call_forbidden.xml')
    cleanups.push(refused.stop)
    await expectExit(refused, 0, assert)
    assert.match(refused.messages(), /SIP\/2\.0 403 Data processing agreement not accepted/)
    assert.notMatch(carrier.messages(), /INVITE sip:/, 'the carrier got no INVITE')
    const record = await until('the refused CDR', 5000, () =>
      CallRecord.query()
        .where('company_id', phone.company.id)
        .where('callee_number', '+4930500200')
        .whereNotNull('ended_at')
        .first()
    )
    assert.equal(record.disconnectCause, 'refused')
    assert.equal(record.sipStatus, 403)

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
    await endOnceTalking(call.uuid, b2bua)
    await expectExit(emergency, 0, assert)

    const dpa = await app.container.make(DpaService)
    await dpa.accept(phone.company, phone.owner, {
      ip: '127.0.0.1',
      locale: 'de',
      version: dpa.versions.current(dpa.now()).version,
    })

    const allowed = await sippPhoneCall(phone, '+4930500201', 'phone_call_until_bye.xml', {
      timeoutSeconds: 40,
    })
    cleanups.push(allowed.stop)
    const connected = await until('the call answered after acceptance', 15_000, async () =>
      CallRecord.query()
        .where('company_id', phone.company.id)
        .where('callee_number', '+4930500201')
        .whereNotNull('answered_at')
        .whereNull('ended_at')
        .first()
    )
    assert.equal(connected.carrierName, 'first')
    await endOnceTalking(connected.uuid, b2bua)
    await expectExit(allowed, 0, assert)
    await expectExit(carrier, 0, assert)
    assert.equal(
      (carrier.messages().match(/^INVITE sip:/gm) ?? []).length,
      2,
      '112 and the call after acceptance reached the carrier'
    )
  }).timeout(90_000)

  test('a carrier calling the number of a company without DPA gets 403; nothing rings', async ({
    assert,
  }) => {
    cleanups.push(await loopbackCarriers({ trunk: await freePort('udp') }))
    const phone = await companyWithoutDpa()
    await ourNumber('+4930300991', 'trunk', phone.company, phone.user.id)
    const stack = await app.container.make('sip.stack')
    const carrier = await startSipp({
      scenario: 'race_carrier_call_refused.xml',
      transport: 'u1',
      target: `127.0.0.1:${stack.layer.localAddress('udp')!.port}`,
      timeoutSeconds: 20,
      traceMessages: true,
      keys: {
        callee: '+4930300991',
        caller: '+4989123456',
        v: '0',
        c: 'IN IP4 127.0.0.1',
        m: `audio ${await freePort('udp')} RTP/AVP 8 101`,
        a: 'rtpmap:8 PCMA/8000',
      },
    })
    cleanups.push(carrier.stop)
    await expectExit(carrier, 0, assert)
    assert.deepEqual(
      receivedStatuses(carrier.messages(), 'INVITE').filter((status) => status >= 200),
      [403]
    )
    assert.match(carrier.messages(), /SIP\/2\.0 403 Data processing agreement not accepted/)
    const record = await until('the refused inbound CDR', 5000, () =>
      CallRecord.query()
        .where('company_id', phone.company.id)
        .where('direction', 'inbound')
        .whereNotNull('ended_at')
        .first()
    )
    assert.equal(record.sipStatus, 403)
    assert.equal(record.disconnectCause, 'rejected')
  }).timeout(60_000)
})
