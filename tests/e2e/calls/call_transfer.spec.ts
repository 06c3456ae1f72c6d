import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import CallRecord from '#calls/models/call_record'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import { completedCdr, loopbackCarriers, startB2bua } from '#tests/support/calls'
import { freePort, startSipp, type SippProcess } from '#tests/support/sip_peers'
import { captureRtp, type RtpPacket } from '#tests/support/rtp_capture'
import { until } from '#tests/support/server_process'
import { dial, office, registeredDesk } from '#tests/e2e/calls/desk_phones'
import { expectExit, leftBehind } from '#tests/e2e/calls/b2bua_races_peers'

/**
 * Transfer from a SIP desk phone (REFER with Referred-By; sipp): extension 22 calls 23, whose
 * phone answers and refers the caller to 24 or to a number outside (blind), or first calls 24
 * itself and then joins the two (attended: Refer-To with Replaces naming that second call). The
 * caller's audio then reaches the new party (captured on its media port), the transferor gets
 * 202, NOTIFY 100 and 200 (message/sipfrag) and our BYE; a carrier never sees a REFER. A transfer outside is the
 * company's outbound call with its own CDR; a call gate that refuses it gets the REFER a 403 and
 * the call goes on.
 */

/** The call's own CDR (internal), once closed: a transfer outside adds a newer outbound one. */
function internalCdr(companyId: number) {
  return until('the call’s CDR closed', 10_000, () =>
    CallRecord.query()
      .where('company_id', companyId)
      .where('direction', 'internal')
      .whereNotNull('ended_at')
      .first()
  )
}

function heard(packets: RtpPacket[], port: number) {
  return packets.filter((packet) => packet.toPort === port && packet.payloadType === 8).length
}

test.group('Call transfer (REFER from a desk phone)', (group) => {
  const cleanups: Array<() => unknown> = []
  let carrier: SippProcess

  group.setup(async () => {
    await startB2bua()
  })
  group.each.setup(async () => {
    carrier = await startSipp({
      scenario: 'carrier_answer_echo.xml',
      transport: 'u1',
      timeoutSeconds: 60,
      traceMessages: true,
      extraArgs: ['-rtp_echo'],
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ trunk: carrier.port }))
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  test('to a colleague: the caller talks with 24 afterwards, audio both ways; NOTIFY 100 and 200, then BYE', async ({
    assert,
  }) => {
    const phones = await office()
    const callerMedia = await freePort('udp', '127.0.0.2')
    const colleagueMedia = await freePort('udp', '127.0.0.3')
    const capture = {
      caller: await captureRtp(callerMedia),
      colleague: await captureRtp(colleagueMedia),
    }
    const transferor = await registeredDesk(
      phones.middle,
      'desk_transfers_call.xml',
      await freePort('udp', '127.0.0.3'),
      { keys: { target: '24', domain: configuredRealm() } }
    )
    cleanups.push(transferor.sipp.stop, transferor.unregister)
    const colleague = await registeredDesk(
      phones.colleague,
      'internal_device_answer.xml',
      colleagueMedia
    )
    cleanups.push(colleague.sipp.stop, colleague.unregister)

    // The caller talks 5 s, then hangs up: the transfer happens in its first second.
    const call = await dial(phones.caller, '23', 'phone_call_out.xml', callerMedia, 5000)
    cleanups.push(call.stop)
    await expectExit(transferor.sipp, 0, assert)
    await expectExit(call, 0, assert)
    await expectExit(colleague.sipp, 0, assert)

    const referrer = transferor.sipp.messages()
    assert.match(referrer, /^SIP\/2\.0 202 /m)
    assert.match(referrer, /^Content-Type: message\/sipfrag/im)
    assert.match(referrer, /^Subscription-State: terminated/im)
    assert.match(colleague.sipp.messages(), /^From: (?:"[^"]*" )?<sip:22@/m)
    assert.notInclude(carrier.messages(), 'INVITE')
    assert.notMatch(carrier.messages(), /^REFER /m)

    // The colleague heard the caller, and the caller heard the colleague's pcap after the transfer.
    const colleagueHeard = heard(await capture.colleague.stop(), colleagueMedia)
    const callerHeard = heard(await capture.caller.stop(), callerMedia)
    assert.isAbove(colleagueHeard, 50, `colleague heard ${colleagueHeard}`)
    assert.isAbove(callerHeard, 50, `caller heard ${callerHeard}`)

    const record = await completedCdr()
    assert.equal(record.direction, 'internal')
    assert.equal(record.forwardedTo, '24')
    assert.equal(record.forwardReason, 'transfer')
    assert.equal(record.disconnectCause, 'answered_normal')
    assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(60_000)

  test('attended, after consulting 24 (REFER with Replaces): the caller talks with 24, both of the transferor’s calls end', async ({
    assert,
  }) => {
    const phones = await office()
    const callerMedia = await freePort('udp', '127.0.0.2')
    const colleagueMedia = await freePort('udp', '127.0.0.3')
    const capture = {
      caller: await captureRtp(callerMedia),
      colleague: await captureRtp(colleagueMedia),
    }
    const transferor = await registeredDesk(
      phones.middle,
      'desk_attended_transfer.xml',
      await freePort('udp', '127.0.0.3'),
      { dials: '24', keys: { domain: configuredRealm() } }
    )
    cleanups.push(transferor.sipp.stop, transferor.unregister)
    const colleague = await registeredDesk(
      phones.colleague,
      'internal_device_answer.xml',
      colleagueMedia
    )
    cleanups.push(colleague.sipp.stop, colleague.unregister)

    // 22 talks 6 s, then hangs up; 23 consults 24 and joins them in the first two seconds.
    const call = await dial(phones.caller, '23', 'phone_call_out.xml', callerMedia, 6000)
    cleanups.push(call.stop)
    await expectExit(transferor.sipp, 0, assert)
    await expectExit(call, 0, assert)
    await expectExit(colleague.sipp, 0, assert)

    const referrer = transferor.sipp.messages()
    assert.match(referrer, /^Refer-To: <sip:24@[^?]+\?Replaces=consult/m)
    assert.match(referrer, /^SIP\/2\.0 202 /m)
    assert.equal(referrer.match(/^BYE /gm)?.length, 2, 'our BYE on both of its calls')
    // 24 got one INVITE only (the consultation's): the join needs no new call.
    assert.equal(colleague.sipp.messages().match(/^INVITE /gm)?.length, 1)
    assert.notInclude(carrier.messages(), 'INVITE')

    // After the join the caller heard 24's pcap, and 24 the caller's.
    const colleagueHeard = heard(await capture.colleague.stop(), colleagueMedia)
    const callerHeard = heard(await capture.caller.stop(), callerMedia)
    assert.isAbove(colleagueHeard, 50, `colleague heard ${colleagueHeard}`)
    assert.isAbove(callerHeard, 50, `caller heard ${callerHeard}`)

    const records = await until('both CDRs closed', 10_000, async () => {
      const rows = await CallRecord.query()
        .where('company_id', phones.company.id)
        .whereNotNull('ended_at')
        .orderBy('id')
      return rows.length === 2 ? rows : null
    })
    const [first, consultation] = records
    assert.equal(first.userId, phones.caller.user.id)
    assert.equal(first.forwardedTo, '24')
    assert.equal(first.forwardReason, 'transfer')
    assert.equal(first.disconnectCause, 'answered_normal')
    assert.equal(consultation.userId, phones.middle.user.id)
    assert.equal(consultation.calleeNumber, '24')
    assert.isNotNull(consultation.answeredAt)
    assert.isTrue(consultation.endedAt! < first.endedAt!, 'the consultation ended at the join')
    assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(60_000)

  test('to a number outside: the company’s outbound call through the carrier, with its own CDR', async ({
    assert,
  }) => {
    const phones = await office()
    const transferor = await registeredDesk(
      phones.middle,
      'desk_transfers_call.xml',
      await freePort('udp', '127.0.0.3'),
      { keys: { target: '+4940123456', domain: configuredRealm() } }
    )
    cleanups.push(transferor.sipp.stop, transferor.unregister)
    const call = await dial(
      phones.caller,
      '23',
      'phone_call_out.xml',
      await freePort('udp', '127.0.0.2'),
      3000
    )
    cleanups.push(call.stop)
    await expectExit(transferor.sipp, 0, assert)
    await expectExit(call, 0, assert)
    await expectExit(carrier, 0, assert)
    assert.match(carrier.messages(), /^INVITE sip:\+?4940123456@/m)
    assert.notMatch(carrier.messages(), /^REFER /m)

    const record = await internalCdr(phones.company.id)
    assert.equal(record.forwardedTo, '+4940123456')
    assert.equal(record.forwardReason, 'transfer')
    const out = await until('the transfer’s outbound CDR closed', 10_000, () =>
      CallRecord.query().where('forwarded_from_uuid', record.uuid).whereNotNull('ended_at').first()
    )
    assert.equal(out.direction, 'outbound')
    assert.equal(out.userId, phones.middle.user.id)
    assert.equal(out.carrierName, 'trunk')
    assert.isNotNull(out.answeredAt)
  }).timeout(60_000)

  test('a call gate that refuses the transfer: REFER gets 403, the call goes on until the caller hangs up', async ({
    assert,
  }) => {
    const phones = await office()
    const gates = await app.container.make('calls.gates')
    gates.register({
      name: 'test_no_transfer',
      check: async (attempt) =>
        attempt.kind === 'transfer'
          ? { allow: false, reason: 'test', phrase: 'Transfer not allowed' }
          : { allow: true },
    })
    cleanups.push(() => gates.unregister('test_no_transfer'))
    const transferor = await registeredDesk(
      phones.middle,
      'desk_transfer_refused.xml',
      await freePort('udp', '127.0.0.3'),
      { keys: { target: '+4940123456', domain: configuredRealm() } }
    )
    cleanups.push(transferor.sipp.stop, transferor.unregister)
    const call = await dial(
      phones.caller,
      '23',
      'phone_call_out.xml',
      await freePort('udp', '127.0.0.2'),
      2000
    )
    cleanups.push(call.stop)
    await expectExit(transferor.sipp, 0, assert)
    await expectExit(call, 0, assert)
    assert.include(transferor.sipp.messages(), 'SIP/2.0 403 Transfer not allowed')
    carrier.kill()
    assert.notInclude(carrier.messages(), 'INVITE')
    const record = await internalCdr(phones.company.id)
    assert.isNull(record.forwardReason)
    assert.equal(record.disconnectCause, 'answered_normal')
  }).timeout(60_000)
})
