import { test } from '@japa/runner'
import SipDeviceService from '#calls/services/sip_device_service'
import CallRecord from '#calls/models/call_record'
import callsConfig from '#config/calls'
import { completedCdr, loopbackCarriers, ourNumber, startB2bua } from '#tests/support/calls'
import {
  carrierCalls,
  expectExit,
  freePort,
  leftBehind,
  phoneFor,
  receivedStatuses,
  registeredDevice,
  type Phone,
} from '#tests/e2e/calls/b2bua_races_peers'

/**
 * Inbound edge cases: sipp as a carrier calls one of our numbers, sipp phones registered for
 * real (REGISTER with digest) as the user's devices answer, ring, or answer too late. Nobody
 * registered, the ring timeout, anonymity refused, the first answer winning and offers we
 * cannot use. Every sipp's exit code is asserted.
 */

const NUMBER = '+4930300000'
let numbers = 0

/** A user with a desk phone, one of our numbers assigned to them, and the loopback carrier. */
async function calledUser(options: { rejectAnonymous?: boolean } = {}) {
  const phone = await phoneFor(options)
  numbers += 1
  const number = `${NUMBER.slice(0, -2)}${String(numbers).padStart(2, '0')}`
  await ourNumber(number, 'trunk', phone.company, phone.user.id)
  return { phone, number }
}

async function secondDevice(phone: Phone) {
  const { device, password } = await new SipDeviceService().create(phone.user, 'Softphone')
  return { ...phone, username: device.sipUsername, password, deviceId: device.id }
}

test.group('B2BUA races: inbound calls', (group) => {
  const cleanups: Array<() => unknown> = []
  group.setup(async () => {
    await startB2bua()
  })
  group.each.setup(async () => {
    // The carrier's source address (127.0.0.1) is how an INVITE is known to come from a carrier.
    const trunkPort = await freePort('udp')
    cleanups.push(await loopbackCarriers({ trunk: trunkPort }))
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    const b2bua = await startB2bua()
    b2bua.setRingTimeout(callsConfig.ringTimeoutSeconds)
  })

  test('nobody registered: 480, and the CDR says missed', async ({ assert }) => {
    const { number } = await calledUser()
    const carrier = await carrierCalls(number, 'race_carrier_call_refused.xml')
    cleanups.push(carrier.stop)
    await expectExit(carrier, 0, assert)
    assert.deepEqual(
      receivedStatuses(carrier.messages(), 'INVITE').filter((status) => status >= 200),
      [480]
    )

    const record = await completedCdr()
    assert.equal(record.direction, 'inbound')
    assert.equal(record.calleeNumber, number)
    assert.equal(record.callerNumber, '+4989123456')
    assert.equal(record.disconnectCause, 'missed')
    assert.equal(record.sipStatus, 480)
    assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(60_000)

  test('ring timeout: the ringing phone gets CANCEL, the carrier 480, the CDR says missed', async ({
    assert,
  }) => {
    const b2bua = await startB2bua()
    b2bua.setRingTimeout(2)
    const { phone, number } = await calledUser()
    const device = await registeredDevice(phone, 'uas_cancel.xml')
    cleanups.push(device.sipp.stop, device.unregister)

    const started = Date.now()
    const carrier = await carrierCalls(number, 'race_carrier_call_refused.xml')
    cleanups.push(carrier.stop)
    await expectExit(carrier, 0, assert)
    await expectExit(device.sipp, 0, assert)
    assert.isAtLeast(Date.now() - started, 2000)
    const statuses = receivedStatuses(carrier.messages(), 'INVITE')
    assert.include(statuses, 180)
    assert.equal(statuses.at(-1), 480)

    const record = await completedCdr()
    assert.equal(record.disconnectCause, 'missed')
    assert.equal(record.sipStatus, 480)
    assert.isNull(record.answeredAt)
    assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(60_000)

  test('an anonymous caller to a user who rejects anonymous calls gets 433; the phone never rings', async ({
    assert,
  }) => {
    const { phone, number } = await calledUser({ rejectAnonymous: true })
    // Registered and willing to answer: only the user's choice may keep it silent.
    const device = await registeredDevice(phone, 'race_device_answer.xml', 6)
    cleanups.push(device.sipp.stop, device.unregister)

    const carrier = await carrierCalls(number, 'race_carrier_call_refused.xml', {
      caller: 'anonymous',
    })
    cleanups.push(carrier.stop)
    await expectExit(carrier, 0, assert)
    assert.deepEqual(
      receivedStatuses(carrier.messages(), 'INVITE').filter((status) => status >= 200),
      [433]
    )
    const idle = await device.sipp.done
    assert.notEqual(idle.code, 0)
    assert.notInclude(device.sipp.messages(), 'INVITE sip:')

    const record = await completedCdr()
    assert.isTrue(record.callerWithheld)
    assert.isNull(record.callerNumber)
    assert.equal(record.disconnectCause, 'rejected')
    assert.equal(record.sipStatus, 433)
  }).timeout(60_000)

  test('two registered phones: the first answers, the second gets CANCEL', async ({ assert }) => {
    const { phone, number } = await calledUser()
    const other = await secondDevice(phone)
    const first = await registeredDevice(phone, 'race_device_answer.xml')
    const second = await registeredDevice(other, 'uas_cancel.xml')
    cleanups.push(first.sipp.stop, first.unregister, second.sipp.stop, second.unregister)

    const carrier = await carrierCalls(number, 'race_carrier_calls_in.xml')
    cleanups.push(carrier.stop)
    await expectExit(carrier, 0, assert)
    await expectExit(first.sipp, 0, assert)
    // uas_cancel.xml exits 0 only after CANCEL, its 487 and the ACK.
    await expectExit(second.sipp, 0, assert)

    const record = await completedCdr()
    assert.isNotNull(record.answeredAt)
    assert.equal(record.disconnectCause, 'answered_normal')
    assert.equal(record.hungUpBy, 'caller')
    assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(60_000)

  test('the second phone answering too late (its 200 crosses our CANCEL) gets ACK and BYE', async ({
    assert,
  }) => {
    const { phone, number } = await calledUser()
    const other = await secondDevice(phone)
    const first = await registeredDevice(phone, 'race_device_answer.xml')
    const late = await registeredDevice(other, 'uas_cancel_crossing.xml')
    cleanups.push(first.sipp.stop, first.unregister, late.sipp.stop, late.unregister)

    const carrier = await carrierCalls(number, 'race_carrier_calls_in.xml')
    cleanups.push(carrier.stop)
    await expectExit(carrier, 0, assert)
    await expectExit(first.sipp, 0, assert)
    // Exits 0 only after the ACK of its 200 and a BYE.
    await expectExit(late.sipp, 0, assert)
    assert.include(late.sipp.messages(), 'BYE sip:')
    // The carrier got exactly one answer.
    assert.lengthOf(
      receivedStatuses(carrier.messages(), 'INVITE').filter((status) => status === 200),
      1
    )

    const record = await completedCdr()
    assert.equal(record.disconnectCause, 'answered_normal')
    assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(60_000)

  const offers = {
    'garbage': {
      v: 'banana',
      c: 'IN IP4 not-an-address',
      m: 'audio many RTP/AVP ??',
      a: 'rtpmap:x y',
    },
    'no audio stream': { m: 'video 5004 RTP/AVP 96', a: 'rtpmap:96 H264/90000' },
    'only G.722': { m: 'audio 5004 RTP/AVP 9', a: 'rtpmap:9 G722/8000' },
    'PCMA at a host name': { c: 'IN IP4 carrier.example' },
  }

  test('{$self} from the carrier gets 488; no phone rings')
    .with(Object.keys(offers) as Array<keyof typeof offers>)
    .run(async ({ assert }, name) => {
      const { phone, number } = await calledUser()
      const device = await registeredDevice(phone, 'race_device_answer.xml', 5)
      cleanups.push(device.sipp.stop, device.unregister)

      const carrier = await carrierCalls(number, 'race_carrier_call_refused.xml', offers[name])
      cleanups.push(carrier.stop)
      await expectExit(carrier, 0, assert)
      assert.deepEqual(
        receivedStatuses(carrier.messages(), 'INVITE').filter((status) => status >= 200),
        [488]
      )
      const idle = await device.sipp.done
      assert.notEqual(idle.code, 0)
      assert.notInclude(device.sipp.messages(), 'INVITE sip:')

      const record = await CallRecord.query().orderBy('id', 'desc').firstOrFail()
      assert.equal(record.calleeNumber, number)
      assert.equal(record.sipStatus, 488)
      assert.equal(record.disconnectCause, 'failed')
      assert.isNotNull(record.endedAt)
      assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
        dialogs: 0,
        transactions: 0,
        mediaLegs: 0,
      })
    })
    .timeout(60_000)
})
