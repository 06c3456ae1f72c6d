import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import SipDeviceService from '#calls/services/sip_device_service'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { freePort, startSipp, type SippProcess } from '#tests/support/sip_peers'
import { completedCdr, loopbackCarriers, startB2bua } from '#tests/support/calls'

/**
 * Outbound calls through the B2BUA to carriers that are sipp processes on loopback: the caller is
 * a customer's SIP phone (sipp with digest credentials), the media RTP on both sides. Failover
 * moves on after a 503 and after silence, never after a 486; 110 goes out for a suspended
 * company whose other calls are refused. sipp's exit codes are asserted on every side.
 */

async function udpPort() {
  const stack = await app.container.make('sip.stack')
  const address = stack.layer.localAddress('udp')
  if (!address) throw new Error('SIP UDP is not listening')
  return address.port
}

async function phoneFor(status: 'active' | 'suspended' = 'active') {
  const company = await makeCompany(status)
  const user = await makeUser('member', company)
  const { device, password } = await new SipDeviceService().create(user, 'Desk phone')
  return { company, user, username: device.sipUsername, password }
}

async function carrier(scenario: string, timeoutSeconds = 20): Promise<SippProcess> {
  return startSipp({
    scenario,
    transport: 'u1',
    timeoutSeconds,
    traceMessages: true,
    extraArgs: ['-rtp_echo'],
  })
}

async function phoneCall(
  phone: { username: string; password: string },
  callee: string,
  scenario = 'phone_call_out.xml'
): Promise<SippProcess> {
  const port = await udpPort()
  return startSipp({
    scenario,
    transport: 'u1',
    target: `127.0.0.1:${port}`,
    localIp: '127.0.0.2',
    timeoutSeconds: 25,
    traceMessages: true,
    keys: { domain: configuredRealm(), callee },
    // sipp's digest uri is its target address unless told: ours must be the Request-URI.
    extraArgs: [
      '-auth_uri',
      `${callee}@127.0.0.1:${port}`,
      '-d',
      '1500',
      '-s',
      phone.username,
      '-au',
      phone.username,
      '-ap',
      phone.password,
    ],
  })
}

async function expectExit(sipp: SippProcess, code: number, assert: { equal: Function }) {
  const outcome = await sipp.done
  assert.equal(outcome.code, code, `${sipp.describe(outcome)}\n${sipp.messages().slice(-4000)}`)
}

test.group('B2BUA: outbound calls and carrier failover', (group) => {
  const cleanups: Array<() => unknown> = []
  group.setup(async () => {
    await startB2bua()
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  test('a carrier answering 503 is skipped, the next one connects', async ({ assert }) => {
    const phone = await phoneFor()
    const first = await carrier('carrier_503.xml')
    const second = await carrier('carrier_answer_echo.xml')
    cleanups.push(
      first.stop,
      second.stop,
      await loopbackCarriers({ first: first.port, second: second.port })
    )

    const call = await phoneCall(phone, '+4930123456')
    await expectExit(call, 0, assert)
    await expectExit(first, 0, assert)
    await expectExit(second, 0, assert)
    assert.include(second.messages(), 'INVITE sip:+4930123456@127.0.0.1')

    const record = await completedCdr()
    assert.equal(record.carrierName, 'second')
    assert.equal(record.direction, 'outbound')
    assert.equal(record.calleeNumber, '+4930123456')
    assert.equal(record.userId, phone.user.id)
    assert.isNotNull(record.answeredAt)
    assert.equal(record.disconnectCause, 'answered_normal')
    assert.equal(record.hungUpBy, 'caller')
    assert.isAtLeast(record.durationSeconds!, 1)
  }).timeout(60_000)

  test('a silent carrier (no 100 Trying within 2 s) is skipped', async ({ assert }) => {
    const phone = await phoneFor()
    const silentPort = await freePort('udp')
    const second = await carrier('carrier_answer_echo.xml')
    cleanups.push(second.stop, await loopbackCarriers({ silent: silentPort, second: second.port }))

    const call = await phoneCall(phone, '+4930123457')
    await expectExit(call, 0, assert)
    await expectExit(second, 0, assert)
    const record = await completedCdr()
    assert.equal(record.carrierName, 'second')
    assert.equal(record.disconnectCause, 'answered_normal')
  }).timeout(60_000)

  test('486 Busy Here is final: no other carrier is tried', async ({ assert }) => {
    const phone = await phoneFor()
    const first = await carrier('carrier_486.xml')
    const second = await carrier('carrier_answer_echo.xml', 8)
    cleanups.push(
      first.stop,
      second.stop,
      await loopbackCarriers({ first: first.port, second: second.port })
    )

    const call = await phoneCall(phone, '+4930123458', 'phone_call_busy.xml')
    await expectExit(call, 0, assert)
    await expectExit(first, 0, assert)
    // The second carrier never hears of the call: its scenario times out waiting for an INVITE.
    const idle = await second.done
    assert.notEqual(idle.code, 0)
    assert.notInclude(second.messages(), 'INVITE sip:')

    const record = await completedCdr()
    assert.equal(record.carrierName, 'first')
    assert.equal(record.sipStatus, 486)
    assert.equal(record.disconnectCause, 'busy')
    assert.isNull(record.answeredAt)
  }).timeout(60_000)

  test('110 from a user of a suspended company connects; other numbers are refused', async ({
    assert,
  }) => {
    const phone = await phoneFor('suspended')
    const emergency = await carrier('carrier_answer_echo.xml')
    cleanups.push(emergency.stop, await loopbackCarriers({ emergency: emergency.port }))

    const call = await phoneCall(phone, '110')
    await expectExit(call, 0, assert)
    await expectExit(emergency, 0, assert)
    const invite = emergency.messages()
    assert.include(invite, 'INVITE sip:110@127.0.0.1')
    // CLIR never applies to emergency calls, and the location goes along as PIDF-LO.
    assert.notInclude(invite, 'Privacy: id')
    assert.include(invite, 'Geolocation: <cid:')
    const record = await completedCdr()
    assert.isTrue(record.emergency)
    assert.equal(record.calleeNumber, '110')
    assert.equal(record.disconnectCause, 'answered_normal')

    const refused = await phoneCall(phone, '+4930123459', 'phone_call_forbidden.xml')
    await expectExit(refused, 0, assert)
    assert.include(refused.messages(), 'SIP/2.0 403 Account not active')
    // The refusal is answered before its CDR is written: wait for the record to close.
    const refusal = await completedCdr()
    assert.equal(refusal.calleeNumber, '+4930123459')
    assert.equal(refusal.disconnectCause, 'refused')
    assert.equal(refusal.sipStatus, 403)
    assert.isNull(refusal.carrierName)
  }).timeout(60_000)
})
