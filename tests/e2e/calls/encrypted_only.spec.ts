import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import CallRecord from '#calls/models/call_record'
import SipDevice from '#calls/models/sip_device'
import SipDeviceService from '#calls/services/sip_device_service'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import { userSubject } from '#calls/signalling/sip_subject'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { endOnceTalking, loopbackCarriers, startB2bua } from '#tests/support/calls'
import { startSipp } from '#tests/support/sip_peers'
import { until } from '#tests/support/server_process'
import { tlsTunnelTo } from '#tests/support/sip_test_stack'
import { expectExit, sipUdpPort, sippPhoneCall } from '#tests/e2e/calls/b2bua_races_peers'
import type B2bua from '#calls/b2bua/b2bua'

/**
 * "Encrypted only" (issue 19) against real sipp phones: a company that turned it on gets its
 * phone's plain UDP registration refused with the reason (the device row says why), the same
 * phone registers over TLS (stunnel4 in front of sipp's TCP), a plain call is refused with 403
 * and never reaches the carrier, while 112 over the same plain transport connects (§ 164 TKG).
 */
async function encryptedOnlyPhone() {
  const company = await makeCompany()
  company.encryptedOnly = true
  await company.save()
  const user = await makeUser('member', company)
  const { device, password } = await new SipDeviceService().create(user, 'Desk phone')
  return { company, user, device, username: device.sipUsername, password }
}

test.group('"Encrypted only": sipp phones over UDP and TLS', (group) => {
  const cleanups: Array<() => unknown> = []
  let b2bua: B2bua
  group.setup(async () => {
    b2bua = await startB2bua()
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  test('a plain registration is refused with the reason; over TLS the phone registers', async ({
    assert,
  }) => {
    const phone = await encryptedOnlyPhone()
    const stack = await app.container.make('sip.stack')
    const credentials = ['-s', phone.username, '-au', phone.username, '-ap', phone.password]
    const plain = await startSipp({
      scenario: 'uac_register_forbidden.xml',
      transport: 'u1',
      target: `127.0.0.1:${await sipUdpPort()}`,
      localIp: '127.0.0.2',
      keys: { domain: configuredRealm() },
      extraArgs: credentials,
      traceMessages: true,
    })
    cleanups.push(plain.stop)
    await expectExit(plain, 0, assert)
    assert.match(plain.messages(), /SIP\/2\.0 403 Encryption required: register over TLS/)
    await until('the refusal noted', 5000, async () =>
      (await SipDevice.findOrFail(phone.device.id)).lastRefusal === 'plain_registration'
        ? true
        : null
    )
    assert.lengthOf(await stack.bindingsOfSubject(userSubject(phone.user.id)), 0)

    const tunnel = await tlsTunnelTo(stack)
    cleanups.push(() => tunnel.stunnel.stop())
    const secure = await startSipp({
      scenario: 'uac_register.xml',
      transport: 't1',
      target: `127.0.0.1:${tunnel.port}`,
      keys: { domain: configuredRealm() },
      extraArgs: credentials,
      traceMessages: true,
    })
    cleanups.push(secure.stop)
    await expectExit(secure, 0, assert)
    const device = await until('the TLS registration noted', 5000, async () => {
      const row = await SipDevice.findOrFail(phone.device.id)
      return row.lastTransport === 'tls' ? row : null
    })
    assert.isNull(device.lastRefusal, 'registered as asked: the refusal is history')
  }).timeout(40_000)

  test('over TLS, a plain RTP offer gets 488 with the reason, noted on the device', async ({
    assert,
  }) => {
    const phone = await encryptedOnlyPhone()
    const call = await sippPhoneCall(phone, '+4930500301', 'race_phone_bad_offer.xml', {
      tls: true,
      keys: { v: '0', c: 'IN IP4 127.0.0.1', m: 'audio 6000 RTP/AVP 8', a: 'rtpmap:8 PCMA/8000' },
    })
    cleanups.push(call.stop)
    await expectExit(call, 0, assert)
    assert.include(call.messages(), 'SIP/2.0 488 Encryption required: offer SRTP (RTP/SAVP)')
    await until('the refusal noted', 5000, async () =>
      (await SipDevice.findOrFail(phone.device.id)).lastRefusal === 'plain_media' ? true : null
    )
  }).timeout(30_000)

  test('a plain call is refused 403 and never reaches the carrier; 112 over the same transport connects', async ({
    assert,
  }) => {
    const carrier = await startSipp({
      scenario: 'carrier_answer_echo.xml',
      transport: 'u1',
      calls: 1,
      timeoutSeconds: 40,
      traceMessages: true,
      extraArgs: ['-rtp_echo'],
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const phone = await encryptedOnlyPhone()

    const refused = await sippPhoneCall(phone, '+4930500300', 'phone_call_forbidden.xml')
    cleanups.push(refused.stop)
    await expectExit(refused, 0, assert)
    assert.match(refused.messages(), /SIP\/2\.0 403 Encryption required: call over TLS/)
    assert.notMatch(carrier.messages(), /INVITE sip:/, 'the carrier got no INVITE')
    await until('the refusal noted', 5000, async () =>
      (await SipDevice.findOrFail(phone.device.id)).lastRefusal === 'plain_call' ? true : null
    )

    const emergency = await sippPhoneCall(phone, '112', 'phone_call_until_bye.xml', {
      timeoutSeconds: 30,
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
    const device = await until('the call noted on the device', 5000, async () => {
      const row = await SipDevice.findOrFail(phone.device.id)
      return row.lastCallAt ? row : null
    })
    assert.isFalse(device.lastCallEncrypted, 'put through in the clear, and the page says so')
    await endOnceTalking(call.uuid, b2bua)
    await expectExit(emergency, 0, assert)
    await expectExit(carrier, 0, assert)
  }).timeout(60_000)
})
