import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import CallRecord from '#calls/models/call_record'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import { completedCdr, loopbackCarriers, startB2bua } from '#tests/support/calls'
import { freePort, startSipp, type SippProcess } from '#tests/support/sip_peers'
import { captureRtp, type RtpPacket } from '#tests/support/rtp_capture'
import { until } from '#tests/support/server_process'
import { FakeClock, SystemClock } from '#sip'
import type B2bua from '#calls/b2bua/b2bua'
import callsConfig from '#config/calls'
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

  /**
   * 22 calls 23, whose phone runs `transferor` and transfers the call to 24 (whose phone runs
   * `colleague`); 22 talks `talkMs`, then hangs up. Returns once the three phones are done, with
   * the packets each of 22 and 24 heard.
   */
  async function transferredCall(
    assert: { equal: Function },
    transferor: { scenario: string; dials?: string },
    colleagueScenario: string,
    talkMs: number
  ) {
    const phones = await office()
    const callerMedia = await freePort('udp', '127.0.0.2')
    const colleagueMedia = await freePort('udp', '127.0.0.3')
    const capture = {
      caller: await captureRtp(callerMedia),
      colleague: await captureRtp(colleagueMedia),
    }
    cleanups.push(capture.caller.stop, capture.colleague.stop)
    const middle = await registeredDesk(
      phones.middle,
      transferor.scenario,
      await freePort('udp', '127.0.0.3'),
      {
        dials: transferor.dials,
        keys: { domain: configuredRealm(), ...(transferor.dials ? {} : { target: '24' }) },
      }
    )
    cleanups.push(middle.sipp.stop, middle.unregister)
    const colleague = await registeredDesk(phones.colleague, colleagueScenario, colleagueMedia)
    cleanups.push(colleague.sipp.stop, colleague.unregister)
    const call = await dial(phones.caller, '23', 'phone_call_out.xml', callerMedia, talkMs)
    cleanups.push(call.stop)
    await expectExit(middle.sipp, 0, assert)
    await expectExit(call, 0, assert)
    await expectExit(colleague.sipp, 0, assert)
    return {
      phones,
      transferor: middle.sipp,
      colleague: colleague.sipp,
      heard: {
        colleague: heard(await capture.colleague.stop(), colleagueMedia),
        caller: heard(await capture.caller.stop(), callerMedia),
      },
    }
  }

  test('to a colleague: the caller talks with 24 afterwards, audio both ways; NOTIFY 100 and 200, then BYE', async ({
    assert,
  }) => {
    // The caller talks 5 s, then hangs up: the transfer happens in its first second.
    const {
      transferor,
      colleague,
      heard: packets,
    } = await transferredCall(
      assert,
      { scenario: 'desk_transfers_call.xml' },
      'internal_device_answer.xml',
      5000
    )
    const referrer = transferor.messages()
    assert.match(referrer, /^SIP\/2\.0 202 /m)
    assert.match(referrer, /^Content-Type: message\/sipfrag/im)
    assert.match(referrer, /^Subscription-State: terminated/im)
    assert.match(colleague.messages(), /^From: (?:"[^"]*" )?<sip:22@/m)
    assert.notInclude(carrier.messages(), 'INVITE')
    assert.notMatch(carrier.messages(), /^REFER /m)

    // The colleague heard the caller, and the caller heard the colleague's pcap after the transfer.
    assert.isAbove(packets.colleague, 50, `colleague heard ${packets.colleague}`)
    assert.isAbove(packets.caller, 50, `caller heard ${packets.caller}`)

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
    // 22 talks 6 s, then hangs up; 23 consults 24 and joins them in the first two seconds. 24's
    // phone allows UPDATE: it learns that it talks with 22 now.
    const {
      phones,
      transferor,
      colleague,
      heard: packets,
    } = await transferredCall(
      assert,
      { scenario: 'desk_attended_transfer.xml', dials: '24' },
      'internal_device_answer_updates.xml',
      6000
    )
    const referrer = transferor.messages()
    assert.match(referrer, /^Refer-To: <sip:24@[^?]+\?Replaces=consult/m)
    assert.match(referrer, /^SIP\/2\.0 202 /m)
    assert.equal(referrer.match(/^BYE /gm)?.length, 2, 'our BYE on both of its calls')
    // 24 got one INVITE only (the consultation's): the join needs no new call.
    assert.equal(colleague.messages().match(/^INVITE /gm)?.length, 1)
    assert.notInclude(carrier.messages(), 'INVITE')
    assert.match(
      colleague.messages(),
      new RegExp(`^P-Asserted-Identity: <sip:22@${configuredRealm()}>`, 'm')
    )

    // After the join the caller heard 24's pcap, and 24 the caller's.
    assert.isAbove(packets.colleague, 50, `colleague heard ${packets.colleague}`)
    assert.isAbove(packets.caller, 50, `caller heard ${packets.caller}`)

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

  test('by the calling side: 23 calls out, then refers the called party to 24; the carrier sees neither REFER nor a new caller', async ({
    assert,
  }) => {
    const phones = await office()
    const colleagueMedia = await freePort('udp', '127.0.0.3')
    const capture = await captureRtp(colleagueMedia)
    const colleague = await registeredDesk(
      phones.colleague,
      'internal_device_answer.xml',
      colleagueMedia
    )
    cleanups.push(colleague.sipp.stop, colleague.unregister)
    const transferor = await dial(
      phones.middle,
      '+4940123456',
      'desk_caller_transfers.xml',
      await freePort('udp', '127.0.0.2'),
      0,
      { target: '24' }
    )
    cleanups.push(transferor.stop)
    await expectExit(transferor, 0, assert)
    assert.match(transferor.messages(), /^SIP\/2\.0 202 /m)
    assert.match(transferor.messages(), /SIP\/2\.0 200 OK\r?\n[\s\S]*^BYE /m)

    // The carrier's party and 24 talk through us (24's audio comes back from the carrier's echo).
    const record = await until('the outbound CDR transferred', 10_000, () =>
      CallRecord.query()
        .where('company_id', phones.company.id)
        .where('forward_reason', 'transfer')
        .first()
    )
    const b2bua = await app.container.make('calls.b2bua')
    await until('audio both ways on the new pair', 10_000, async () => {
      const call = b2bua.calls.find((candidate) => candidate.uuid === record.uuid)
      return call && call.session.relayed.aToB > 50 && call.session.relayed.bToA > 50
    })
    assert.isFalse(b2bua.isOnCall(phones.middle.user.id), 'the transferor is free again')
    assert.isTrue(b2bua.isOnCall(phones.colleague.user.id))
    await b2bua.end(record.uuid)
    await expectExit(colleague.sipp, 0, assert)
    await expectExit(carrier, 0, assert)
    assert.isAbove(heard(await capture.stop(), colleagueMedia), 50)
    assert.match(colleague.sipp.messages(), /^From: (?:"[^"]*" )?<sip:\+?4940123456@/m)
    const toCarrier = carrier.messages()
    assert.equal(toCarrier.match(/^INVITE /gm)?.length, 1, 'one INVITE, no re-INVITE')
    assert.notMatch(toCarrier, /^(REFER|UPDATE) /m)

    const done = await CallRecord.findOrFail(record.id)
    await done.refresh()
    assert.equal(done.direction, 'outbound')
    assert.equal(done.userId, phones.middle.user.id)
    assert.equal(done.forwardedTo, '24')
    assert.isNotNull(done.endedAt)
    assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
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

/**
 * When a blind transfer goes wrong: the new party never answers, the transferor hangs up at once
 * (as many phones do after the 202), both at once, or the caller hangs up while the new party
 * rings. The ring time runs on an injected clock, moved once the colleague's 180 reached us.
 */
test.group('Call transfer: the failure paths', (group) => {
  const cleanups: Array<() => unknown> = []
  let b2bua: B2bua
  let clock: FakeClock

  group.setup(async () => {
    b2bua = await startB2bua()
  })
  group.each.setup(() => {
    clock = new FakeClock(Date.now())
    b2bua.useClock(clock)
    cleanups.push(() => b2bua.useClock(new SystemClock()))
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  /**
   * 22 calls 23 (`caller` scenario, talking `talkMs`), whose phone refers it to 24 with
   * `scenario`; 24's phone runs `colleagueScenario`, its RTP captured.
   */
  async function transfer(
    scenario: string,
    colleagueScenario: string,
    caller: { scenario: string; talkMs?: number } = { scenario: 'phone_call_out.xml' }
  ) {
    const phones = await office()
    const colleagueMedia = await freePort('udp', '127.0.0.3')
    const capture = await captureRtp(colleagueMedia)
    cleanups.push(() => capture.stop())
    const transferor = await registeredDesk(
      phones.middle,
      scenario,
      await freePort('udp', '127.0.0.3'),
      { keys: { target: '24', domain: configuredRealm() } }
    )
    cleanups.push(transferor.sipp.stop, transferor.unregister)
    const colleague = await registeredDesk(phones.colleague, colleagueScenario, colleagueMedia)
    cleanups.push(colleague.sipp.stop, colleague.unregister)
    const call = await dial(
      phones.caller,
      '23',
      caller.scenario,
      await freePort('udp', '127.0.0.2'),
      caller.talkMs ?? 4000
    )
    cleanups.push(call.stop)
    return {
      phones,
      call,
      transferor: transferor.sipp,
      colleague: colleague.sipp,
      colleagueHeard: async () => heard(await capture.stop(), colleagueMedia),
    }
  }

  /** 24's phone rings (its 180 reached us): the ring time may run out now. */
  async function ringing(colleague: SippProcess) {
    await until('24 rings', 10_000, async () => /^SIP\/2\.0 180 /m.test(colleague.messages()))
    await until('the 180 reached us', 10_000, async () =>
      b2bua.calls.some((call) => call.session.transferState === 'ringing')
    )
  }

  test('24 never answers: the ring time runs out, NOTIFY 480, the caller stays with 23', async ({
    assert,
  }) => {
    const { call, transferor, colleague } = await transfer(
      'desk_transfer_pending.xml',
      'uas_cancel.xml'
    )
    await ringing(colleague)
    clock.advance(callsConfig.ringTimeoutSeconds * 1000)
    await expectExit(colleague, 0, assert)
    await expectExit(transferor, 0, assert)
    await expectExit(call, 0, assert)
    assert.match(colleague.messages(), /^CANCEL sip:/m)
    assert.match(transferor.messages(), /^SIP\/2\.0 480 /m, 'the final NOTIFY says 480')
    const record = await completedCdr()
    assert.isNull(record.forwardReason)
    assert.equal(record.disconnectCause, 'answered_normal')
    assert.equal(record.hungUpBy, 'caller')
  }).timeout(60_000)

  test('23 hangs up right after the 202: the transfer goes on, the caller talks with 24', async ({
    assert,
  }) => {
    const { call, transferor, colleague, colleagueHeard } = await transfer(
      'desk_transfer_hangs_up.xml',
      'internal_device_answer.xml'
    )
    await expectExit(transferor, 0, assert)
    await expectExit(call, 0, assert)
    await expectExit(colleague, 0, assert)
    assert.isAbove(await colleagueHeard(), 50)
    assert.equal(transferor.messages().match(/^NOTIFY /gm)?.length, 1, 'no NOTIFY after its BYE')
    const record = await completedCdr()
    assert.equal(record.forwardedTo, '24')
    assert.equal(record.forwardReason, 'transfer')
    assert.equal(record.disconnectCause, 'answered_normal')
  }).timeout(60_000)

  test('23 hung up and 24 never answers: the call ends, the caller gets our BYE, the CDR closes', async ({
    assert,
  }) => {
    const { call, transferor, colleague } = await transfer(
      'desk_transfer_hangs_up.xml',
      'uas_cancel.xml',
      { scenario: 'phone_call_until_bye.xml' }
    )
    await expectExit(transferor, 0, assert)
    await ringing(colleague)
    clock.advance(callsConfig.ringTimeoutSeconds * 1000)
    await expectExit(colleague, 0, assert)
    await expectExit(call, 0, assert)
    const record = await completedCdr()
    assert.isNull(record.forwardReason)
    assert.equal(record.disconnectCause, 'no_answer')
    assert.equal(record.hungUpBy, 'system')
    assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(60_000)

  test('the caller hangs up while 24 rings: 24 gets CANCEL, 23 our BYE, nothing is left behind', async ({
    assert,
  }) => {
    const { call, transferor, colleague } = await transfer(
      'desk_transfer_pending.xml',
      'uas_cancel.xml',
      { scenario: 'phone_call_out.xml', talkMs: 2500 }
    )
    await expectExit(call, 0, assert)
    await expectExit(colleague, 0, assert)
    await expectExit(transferor, 0, assert)
    assert.match(colleague.messages(), /^CANCEL sip:/m)
    const record = await completedCdr()
    assert.isNull(record.forwardReason)
    assert.equal(record.hungUpBy, 'caller')
    assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(60_000)
})
