import { ok } from 'node:assert'
import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import PhoneNumber from '#calls/models/phone_number'
import InternalLineService from '#calls/internal/internal_line_service'
import { makeCompany, makeUser } from '#tests/support/accounts'
import B2bua from '#calls/b2bua/b2bua'
import { completedCdr, loopbackCarriers, ourNumber, startB2bua } from '#tests/support/calls'
import { freePort, startSipp, type SippProcess } from '#tests/support/sip_peers'
import { captureRtp, type RtpPacket } from '#tests/support/rtp_capture'
import { desk, dial, registeredDesk } from '#tests/e2e/calls/desk_phones'
import { expectExit, leftBehind, receivedStatuses } from '#tests/e2e/calls/b2bua_races_peers'

/**
 * Calls inside a company between two real SIP phones (sipp with digest, the callee registered
 * for real): by extension and by one of the company's own numbers (direct dial in its block),
 * audio both ways captured on the phones' media ports, and a sipp carrier that must see nothing.
 * Do not disturb: the caller gets 486 and the colleague's phone never rings.
 */

/** RTP packets that reached `port` (sent to the phone) and left it (sent by the phone). */
function directions(packets: RtpPacket[], port: number) {
  return {
    heard: packets.filter((packet) => packet.toPort === port && packet.payloadType === 8).length,
    spoke: packets.filter((packet) => packet.fromPort === port && packet.payloadType === 8).length,
  }
}

test.group('Internal calls between two SIP phones', (group) => {
  const cleanups: Array<() => unknown> = []
  let carrier: SippProcess

  group.setup(async () => {
    await startB2bua()
  })
  group.each.setup(async () => {
    // A carrier that answers anything: an internal call that reached it would show in its log.
    carrier = await startSipp({
      scenario: 'carrier_until_bye.xml',
      transport: 'u1',
      timeoutSeconds: 60,
      traceMessages: true,
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ trunk: carrier.port }))
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  async function colleagues() {
    const company = await makeCompany('active')
    const admin = await makeUser('admin', company)
    const caller = await desk(company)
    const callee = await desk(company)
    const lines = new InternalLineService()
    await lines.setExtension(company, caller.user.id, '22', { actor: admin, ip: null })
    await lines.setExtension(company, callee.user.id, '23', { actor: admin, ip: null })
    // A block of ten: +4930 8xxxx5 20 … 29; -23 is the callee's direct dial. Numbers are unique
    // and earlier runs' may still be there: a block with any number taken is not used.
    let base = ''
    for (let tries = 0; tries < 50 && !base; tries++) {
      const candidate = `+49308${String(Math.floor(Math.random() * 9000) + 1000)}5`
      const block = Array.from({ length: 10 }, (_, index) => `${candidate}${20 + index}`)
      if (!(await PhoneNumber.query().whereIn('number', block).first())) base = candidate
    }
    ok(base, 'no free block of ten numbers found')
    for (let index = 0; index < 10; index++)
      await ourNumber(`${base}${20 + index}`, 'trunk', company)
    return { company, caller, callee, base }
  }

  test(
    'dialling {$self}: the colleague’s phone rings and answers, audio both ways, no carrier, free'
  )
    .with(['the extension', 'the company’s own number'])
    .run(async ({ assert }, how) => {
      const { caller, callee, base } = await colleagues()
      const dialled = how === 'the extension' ? '23' : `${base}23`
      const callerMedia = await freePort('udp', '127.0.0.2')
      const calleeMedia = await freePort('udp', '127.0.0.3')
      const capture = {
        caller: await captureRtp(callerMedia),
        callee: await captureRtp(calleeMedia),
      }
      const device = await registeredDesk(callee, 'internal_device_answer.xml', calleeMedia)
      cleanups.push(device.sipp.stop, device.unregister)

      const phone = await dial(caller, dialled, 'phone_call_out.xml', callerMedia)
      cleanups.push(phone.stop)
      await expectExit(phone, 0, assert)
      await expectExit(device.sipp, 0, assert)
      const heardByCaller = directions(await capture.caller.stop(), callerMedia)
      const heardByCallee = directions(await capture.callee.stop(), calleeMedia)

      // Both phones spoke and each heard the other through the relay (50 packets/s, 1.5 s talk).
      assert.isAbove(heardByCaller.spoke, 25, JSON.stringify(heardByCaller))
      assert.isAbove(heardByCallee.spoke, 25, JSON.stringify(heardByCallee))
      assert.isAbove(heardByCaller.heard, 25, JSON.stringify(heardByCaller))
      assert.isAbove(heardByCallee.heard, 25, JSON.stringify(heardByCallee))

      // The colleague's phone shows who calls: the caller's name and extension.
      const invite = device.sipp.messages()
      assert.match(invite, /^From: "[^"]+" <sip:22@/m)
      // The carrier saw nothing at all.
      assert.notInclude(carrier.messages(), 'INVITE')

      const record = await completedCdr()
      assert.equal(record.direction, 'internal')
      assert.equal(record.userId, caller.user.id)
      assert.equal(record.calleeUserId, callee.user.id)
      assert.equal(record.callerNumber, '22')
      assert.equal(record.calleeNumber, dialled)
      assert.isNull(record.carrierName)
      assert.isNotNull(record.answeredAt)
      assert.equal(record.disconnectCause, 'answered_normal')
      // Billing rates it as free (the listener runs right after call:ended).
      let rated: { rating: string | null; cost_micro: unknown } | undefined
      for (let tries = 0; tries < 50 && !rated?.rating; tries++) {
        rated = await db
          .from('call_records')
          .where('id', record.id)
          .select('rating', 'cost_micro')
          .first()
        if (!rated?.rating) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      assert.equal(rated?.rating, 'free')
      assert.equal(Number(rated?.cost_micro), 0)
      assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
        dialogs: 0,
        transactions: 0,
        mediaLegs: 0,
      })
    })
    .timeout(60_000)

  test('do not disturb: the caller gets 486, the colleague’s phone never rings, the CDR says busy', async ({
    assert,
  }) => {
    const { caller, callee } = await colleagues()
    await new InternalLineService().updateSettings(callee.user, { doNotDisturb: true }, null)
    const device = await registeredDesk(
      callee,
      'internal_device_answer.xml',
      await freePort('udp', '127.0.0.3')
    )
    cleanups.push(device.sipp.stop, device.unregister)

    const phone = await dial(
      caller,
      '23',
      'phone_call_busy.xml',
      await freePort('udp', '127.0.0.2')
    )
    cleanups.push(phone.stop)
    await expectExit(phone, 0, assert)
    assert.equal(receivedStatuses(phone.messages(), 'INVITE').at(-1), 486)
    assert.include(phone.messages(), 'SIP/2.0 486 Do not disturb')
    device.sipp.kill()
    assert.notInclude(device.sipp.messages(), 'INVITE')
    assert.notInclude(carrier.messages(), 'INVITE')

    const record = await completedCdr()
    assert.equal(record.direction, 'internal')
    assert.equal(record.disconnectCause, 'busy')
    assert.equal(record.sipStatus, 486)
  }).timeout(60_000)

  /** Waits until the colleague has answered a call (the B2BUA's live calls). */
  async function answeredBy(userId: number) {
    const deadline = Date.now() + 10_000
    while (!B2bua.started?.calls.some((call) => call.session.answeredUserId === userId)) {
      if (Date.now() > deadline) throw new Error(`user ${userId} answered no call`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** INVITEs a sipp phone received (its message log). */
  function invitesAt(sipp: SippProcess) {
    return (sipp.messages().match(/^INVITE sip:/gm) ?? []).length
  }

  test('call waiting off: a second caller gets 486 while the colleague talks; on: the second call rings and is answered', async ({
    assert,
  }) => {
    const { company, caller, callee } = await colleagues()
    const third = await desk(company)
    const lines = new InternalLineService()

    // Off: the first call is answered, the second is refused before the phone sees it.
    await lines.updateSettings(callee.user, { callWaiting: false }, null)
    const device = await registeredDesk(
      callee,
      'internal_device_answer.xml',
      await freePort('udp', '127.0.0.3')
    )
    cleanups.push(device.sipp.stop, device.unregister)
    const first = await dial(
      caller,
      '23',
      'phone_call_out.xml',
      await freePort('udp', '127.0.0.2'),
      4000
    )
    cleanups.push(first.stop)
    await answeredBy(callee.user.id)
    const second = await dial(
      third,
      '23',
      'phone_call_busy.xml',
      await freePort('udp', '127.0.0.2')
    )
    cleanups.push(second.stop)
    await expectExit(second, 0, assert)
    assert.include(second.messages(), 'SIP/2.0 486 Busy Here')
    await expectExit(first, 0, assert)
    await expectExit(device.sipp, 0, assert)
    assert.equal(invitesAt(device.sipp), 1, 'only the first call reached the phone')
    device.sipp.stop()
    await device.unregister()

    // On (the default): the second call signals at the phone while the first goes on.
    await lines.updateSettings(callee.user, { callWaiting: true }, null)
    const waiting = await registeredDesk(
      callee,
      'internal_device_answer.xml',
      await freePort('udp', '127.0.0.3'),
      { calls: 2 }
    )
    cleanups.push(waiting.sipp.stop, waiting.unregister)
    const again = await dial(
      caller,
      '23',
      'phone_call_out.xml',
      await freePort('udp', '127.0.0.2'),
      4000
    )
    cleanups.push(again.stop)
    await answeredBy(callee.user.id)
    const knocking = await dial(
      third,
      '23',
      'phone_call_out.xml',
      await freePort('udp', '127.0.0.2')
    )
    cleanups.push(knocking.stop)
    await expectExit(knocking, 0, assert)
    await expectExit(again, 0, assert)
    await expectExit(waiting.sipp, 0, assert)
    assert.equal(invitesAt(waiting.sipp), 2, 'the second call rang during the first')
    assert.notInclude(carrier.messages(), 'INVITE')
  }).timeout(90_000)
})
