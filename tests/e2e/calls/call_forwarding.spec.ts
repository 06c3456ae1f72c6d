import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import { FakeClock, SystemClock } from '#sip'
import type Company from '#accounts/models/company'
import { makeUser } from '#tests/support/accounts'
import CallRecord from '#calls/models/call_record'
import CallForwarding, { type ForwardCondition } from '#calls/models/call_forwarding'
import PhoneNumberForwarding from '#calls/models/phone_number_forwarding'
import InternalLineService from '#calls/internal/internal_line_service'
import { completedCdr, loopbackCarriers, ourNumber, startB2bua } from '#tests/support/calls'
import { freePort, startSipp, type SippProcess } from '#tests/support/sip_peers'
import { alawToneWav, captureRtp, type RtpPacket } from '#tests/support/rtp_capture'
import { until } from '#tests/support/server_process'
import { dial, office, registeredDesk, type Desk } from '#tests/e2e/calls/desk_phones'
import {
  carrierCalls,
  expectExit,
  leftBehind,
  receivedStatuses,
} from '#tests/e2e/calls/b2bua_races_peers'
import type B2bua from '#calls/b2bua/b2bua'

/**
 * Call forwarding against real sipp peers: a colleague's desk phone calls extension 23, whose
 * owner forwards when busy (do not disturb), after ringing unanswered (the ring time runs on an
 * injected clock) or always; the call reaches extension 24 with audio both ways captured. A
 * carrier's call to the user's number forwarded to an external number goes out through the
 * loopback carrier as the company's outbound call (Diversion, the company's number shown, its own
 * rated CDR); a call gate that refuses forwarding stops it; a forwarding loop is not followed.
 * A company number's own rule (set by its admins) takes a carrier's call the user let ring out.
 */

async function forward(
  company: Company,
  from: Desk,
  condition: ForwardCondition,
  to: { colleague: Desk } | { number: string },
  ringSeconds: number | null = null
) {
  await CallForwarding.create({
    userId: from.user.id,
    companyId: company.id,
    condition,
    targetUserId: 'colleague' in to ? to.colleague.user.id : null,
    targetNumber: 'number' in to ? to.number : null,
    ringSeconds,
  })
}

/** Packets of the phone's payload type 8 that reached its port and that it sent. */
function directions(packets: RtpPacket[], port: number) {
  return {
    heard: packets.filter((packet) => packet.toPort === port && packet.payloadType === 8).length,
    spoke: packets.filter((packet) => packet.fromPort === port && packet.payloadType === 8).length,
  }
}

function invitesAt(sipp: SippProcess) {
  return (sipp.messages().match(/^INVITE sip:/gm) ?? []).length
}

test.group('Call forwarding', (group) => {
  const cleanups: Array<() => unknown> = []
  let b2bua: B2bua
  let carrier: SippProcess

  group.setup(async () => {
    b2bua = await startB2bua()
  })
  group.each.setup(async () => {
    // The carrier answers and echoes what it hears; a call that stays inside never reaches it.
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

  /** Extension 22 calls 23; the colleague (24) answers; both phones talk 1.5 s. */
  async function callReachesColleague(
    assert: { isAbove: Function; equal: Function },
    phones: Awaited<ReturnType<typeof office>>,
    ringing?: { scenario: string; then: (device: SippProcess) => Promise<void> }
  ) {
    const callerMedia = await freePort('udp', '127.0.0.2')
    const colleagueMedia = await freePort('udp', '127.0.0.3')
    const capture = {
      caller: await captureRtp(callerMedia),
      colleague: await captureRtp(colleagueMedia),
    }
    const answering = await registeredDesk(
      phones.colleague,
      'internal_device_answer.xml',
      colleagueMedia
    )
    cleanups.push(answering.sipp.stop, answering.unregister)
    const first = ringing
      ? await registeredDesk(phones.middle, ringing.scenario, await freePort('udp', '127.0.0.3'))
      : undefined
    if (first) cleanups.push(first.sipp.stop, first.unregister)

    const call = await dial(phones.caller, '23', 'phone_call_out.xml', callerMedia)
    cleanups.push(call.stop)
    if (ringing && first) await ringing.then(first.sipp)
    await expectExit(call, 0, assert)
    await expectExit(answering.sipp, 0, assert)
    const caller = directions(await capture.caller.stop(), callerMedia)
    const colleague = directions(await capture.colleague.stop(), colleagueMedia)
    assert.isAbove(caller.heard, 25, JSON.stringify(caller))
    assert.isAbove(colleague.heard, 25, JSON.stringify(colleague))
    return { first: first?.sipp, answering: answering.sipp }
  }

  test('busy (do not disturb): the call goes to the colleague, audio both ways, the CDR says forwarded', async ({
    assert,
  }) => {
    const phones = await office()
    await new InternalLineService().updateSettings(phones.middle.user, { doNotDisturb: true }, null)
    await forward(phones.company, phones.middle, 'busy', { colleague: phones.colleague })
    const busyDesk = await registeredDesk(
      phones.middle,
      'internal_device_answer.xml',
      await freePort('udp', '127.0.0.3')
    )
    cleanups.push(busyDesk.sipp.stop, busyDesk.unregister)

    const { answering } = await callReachesColleague(assert, phones)
    busyDesk.sipp.kill()
    assert.equal(invitesAt(busyDesk.sipp), 0, 'the phone on do not disturb never rang')
    assert.match(answering.messages(), /^From: "[^"]+" <sip:22@/m)
    assert.notInclude(carrier.messages(), 'INVITE')

    const record = await completedCdr()
    assert.equal(record.direction, 'internal')
    assert.equal(record.forwardedTo, '24')
    assert.equal(record.forwardReason, 'busy')
    assert.isNotNull(record.answeredAt)
    assert.equal(record.disconnectCause, 'answered_normal')
    assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(60_000)

  test('no answer: after the rule’s 15 s (injected clock) the first phone is cancelled and the colleague answers', async ({
    assert,
  }) => {
    const phones = await office()
    await forward(phones.company, phones.middle, 'no_answer', { colleague: phones.colleague }, 15)
    const clock = new FakeClock(Date.now())
    b2bua.useClock(clock)
    cleanups.push(() => b2bua.useClock(new SystemClock()))

    const { first, answering } = await callReachesColleague(assert, phones, {
      scenario: 'uas_cancel.xml',
      then: async (device) => {
        await until('the first phone rings', 10_000, async () => invitesAt(device) === 1)
        // Its 180 must have reached us before the clock moves, or the attempt's trying timer
        // (on the same clock) gives up on the phone first.
        await until('the call rings', 10_000, async () =>
          b2bua.calls.some((call) => call.session.phase === 'ringing')
        )
        clock.advance(14_000)
        await new Promise((resolve) => setTimeout(resolve, 300))
        assert.notMatch(device.messages(), /^CANCEL sip:/m, 'still ringing before the 15 s')
        clock.advance(1_000)
      },
    })
    await expectExit(first!, 0, assert)
    assert.match(first!.messages(), /^CANCEL sip:/m)
    assert.equal(invitesAt(answering), 1)
    const record = await completedCdr()
    assert.equal(record.forwardedTo, '24')
    assert.equal(record.forwardReason, 'no_answer')
    assert.equal(record.disconnectCause, 'answered_normal')
  }).timeout(60_000)

  test('not reachable (no phone registered): the call goes to the colleague at once', async ({
    assert,
  }) => {
    const phones = await office()
    await forward(phones.company, phones.middle, 'unreachable', {
      colleague: phones.colleague,
    })
    const { answering } = await callReachesColleague(assert, phones)
    assert.equal(invitesAt(answering), 1)
    const record = await completedCdr()
    assert.equal(record.forwardedTo, '24')
    assert.equal(record.forwardReason, 'unreachable')
    assert.equal(record.disconnectCause, 'answered_normal')
  }).timeout(60_000)

  test('a loop (23 → 24 → 23, both always) is not followed: the call stops at 24, whose phone answers', async ({
    assert,
  }) => {
    const phones = await office()
    await forward(phones.company, phones.middle, 'always', { colleague: phones.colleague })
    await forward(phones.company, phones.colleague, 'always', { colleague: phones.middle })
    const { answering } = await callReachesColleague(assert, phones)
    assert.equal(invitesAt(answering), 1)
    const record = await completedCdr()
    assert.equal(record.forwardedTo, '24')
    assert.equal(record.forwardReason, 'always')
  }).timeout(60_000)

  /**
   * A carrier's call to 23's number, forwarded always to a number outside: the outbound INVITE the
   * carrier gets, and the two CDRs (the forwarded call, the company's outbound call).
   */
  async function forwardedOut(
    assert: { equal: Function },
    phones: Awaited<ReturnType<typeof office>>
  ) {
    const number = `+4930301${String(Math.floor(Math.random() * 900) + 100)}`
    await ourNumber(number, 'trunk', phones.company, phones.middle.user.id)
    await forward(phones.company, phones.middle, 'always', { number: '+4940123456' })
    const forwardedDesk = await registeredDesk(
      phones.middle,
      'internal_device_answer.xml',
      await freePort('udp', '127.0.0.3')
    )
    cleanups.push(forwardedDesk.sipp.stop, forwardedDesk.unregister)

    const caller = await carrierCalls(number, 'race_carrier_calls_in.xml')
    cleanups.push(caller.stop)
    await expectExit(caller, 0, assert)
    await expectExit(carrier, 0, assert)
    forwardedDesk.sipp.kill()
    assert.equal(invitesAt(forwardedDesk.sipp), 0, 'the forwarding user’s phone never rang')

    const invite = carrier
      .messages()
      .split(/\r?\n\r?\n/)
      .find((part) => /INVITE sip:/.test(part))!
    const inbound = await until('the forwarded CDR closed', 10_000, () =>
      CallRecord.query()
        .where('company_id', phones.company.id)
        .where('direction', 'inbound')
        .whereNotNull('ended_at')
        .first()
    )
    const out = await until('the outbound CDR closed', 10_000, () =>
      CallRecord.query().where('forwarded_from_uuid', inbound.uuid).whereNotNull('ended_at').first()
    )
    return { number, invite, inbound, out }
  }

  test('always, to an external number: a carrier’s call goes out as the company’s call with Diversion; rated on its own CDR', async ({
    assert,
  }) => {
    const phones = await office()
    const { number, invite, inbound, out } = await forwardedOut(assert, phones)
    assert.match(invite, /^INVITE sip:\+?4940123456@/m)
    assert.match(
      invite,
      new RegExp(`^Diversion: <sip:\\${number}@[^>]+>;reason=unconditional;counter=1`, 'm')
    )
    assert.notMatch(invite, /^History-Info:/m)
    // The carrier sees the company's number, not the original caller's (the local profile).
    assert.match(invite, new RegExp(`^P-Asserted-Identity: <sip:\\${number}@`, 'm'))
    assert.notInclude(invite, '+4989123456')

    assert.equal(inbound.forwardedTo, '+4940123456')
    assert.equal(inbound.forwardReason, 'always')
    assert.isNotNull(inbound.answeredAt)
    assert.equal(out.direction, 'outbound')
    assert.equal(out.companyId, phones.company.id)
    assert.equal(out.userId, phones.middle.user.id)
    assert.equal(out.calleeNumber, '+4940123456')
    assert.equal(out.callerNumber, number)
    assert.equal(out.carrierName, 'trunk')
    assert.isNotNull(out.answeredAt)
    assert.equal(out.disconnectCause, 'answered_normal')
  }).timeout(60_000)

  test('always, to a carrier whose profile asks for History-Info and lets us present the caller: History-Info (RFC 7044), the original caller shown', async ({
    assert,
  }) => {
    cleanups.push(
      await loopbackCarriers(
        { trunk: carrier.port },
        { callerId: { forwarding: { header: 'history_info', presentOriginalCaller: true } } }
      )
    )
    const phones = await office()
    const { number, invite, out } = await forwardedOut(assert, phones)
    assert.match(
      invite,
      new RegExp(
        `^History-Info: <sip:\\${number}@[^>]+>;index=1, ` +
          `<sip:\\+?4940123456@127\\.0\\.0\\.1[^>]*;cause=302>;index=1\\.1;mp=1`,
        'm'
      )
    )
    assert.notMatch(invite, /^Diversion:/m)
    assert.match(invite, /^P-Asserted-Identity: <sip:\+4989123456@/m)
    // Billed as the company's call all the same.
    assert.equal(out.companyId, phones.company.id)
    assert.equal(out.carrierName, 'trunk')
    assert.isNotNull(out.answeredAt)
  }).timeout(60_000)

  test('a call gate that refuses forwarded calls stops an external forwarding: the caller gets 403, the carrier nothing', async ({
    assert,
  }) => {
    const phones = await office()
    await forward(phones.company, phones.middle, 'always', { number: '+4940123456' })
    const gates = await app.container.make('calls.gates')
    gates.register({
      name: 'test_no_forwarding',
      check: async (attempt) =>
        attempt.kind === 'forward'
          ? { allow: false, reason: 'test', phrase: 'Forwarding not allowed' }
          : { allow: true },
    })
    cleanups.push(() => gates.unregister('test_no_forwarding'))

    const call = await dial(
      phones.caller,
      '23',
      'phone_call_forbidden.xml',
      await freePort('udp', '127.0.0.2')
    )
    cleanups.push(call.stop)
    await expectExit(call, 0, assert)
    assert.equal(receivedStatuses(call.messages(), 'INVITE').at(-1), 403)
    assert.include(call.messages(), 'SIP/2.0 403 Forwarding not allowed')
    carrier.kill()
    assert.notInclude(carrier.messages(), 'INVITE')
    const out = await until('the refused outbound CDR', 5000, () =>
      CallRecord.query()
        .where('company_id', phones.company.id)
        .whereNotNull('forwarded_from_uuid')
        .whereNotNull('ended_at')
        .first()
    )
    assert.equal(out.disconnectCause, 'refused')
    assert.equal(out.sipStatus, 403)
  }).timeout(60_000)

  test('a company number’s rule: a carrier’s call the user lets ring for the rule’s 10 s (injected clock) goes to the colleague, audio both ways', async ({
    assert,
  }) => {
    const phones = await office()
    const number = `+4930302${String(Math.floor(Math.random() * 900) + 100)}`
    const ours = await ourNumber(number, 'trunk', phones.company, phones.middle.user.id)
    // The number's rule, not the user's (who has none): its seconds are the ring time.
    await PhoneNumberForwarding.create({
      phoneNumberId: ours.id,
      companyId: phones.company.id,
      condition: 'no_answer',
      targetUserId: phones.colleague.user.id,
      targetNumber: null,
      ringSeconds: 10,
      setByUserId: null,
    })
    const clock = new FakeClock(Date.now())
    b2bua.useClock(clock)
    cleanups.push(() => b2bua.useClock(new SystemClock()))

    const colleagueMedia = await freePort('udp', '127.0.0.3')
    const carrierMedia = await freePort('udp')
    const capture = {
      carrier: await captureRtp(carrierMedia),
      colleague: await captureRtp(colleagueMedia),
    }
    const answering = await registeredDesk(
      phones.colleague,
      'internal_device_answer.xml',
      colleagueMedia
    )
    cleanups.push(answering.sipp.stop, answering.unregister)
    const first = await registeredDesk(
      phones.middle,
      'uas_cancel.xml',
      await freePort('udp', '127.0.0.3')
    )
    cleanups.push(first.sipp.stop, first.unregister)

    // The carrier calls the number from 127.0.0.1 (the loopback carrier's host) and sends a tone.
    const stack = await app.container.make('sip.stack')
    const caller = await startSipp({
      scenario: 'carrier_calls_in.xml',
      transport: 'u1',
      target: `127.0.0.1:${stack.layer.localAddress('udp')!.port}`,
      timeoutSeconds: 40,
      traceMessages: true,
      keys: { callee: number },
      extraArgs: ['-mp', String(carrierMedia)],
      files: { 'tone.wav': alawToneWav() },
    })
    cleanups.push(caller.stop)

    await until('the user’s phone rings', 10_000, async () => invitesAt(first.sipp) === 1)
    await until('the call rings', 10_000, async () =>
      b2bua.calls.some((call) => call.session.phase === 'ringing')
    )
    clock.advance(9_000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.notMatch(first.sipp.messages(), /^CANCEL sip:/m, 'still ringing before the 10 s')
    assert.equal(invitesAt(answering.sipp), 0, 'the colleague does not ring yet')
    clock.advance(1_000)

    await expectExit(first.sipp, 0, assert)
    assert.match(first.sipp.messages(), /^CANCEL sip:/m)
    await expectExit(caller, 0, assert)
    await expectExit(answering.sipp, 0, assert)
    assert.equal(invitesAt(answering.sipp), 1)
    // The colleague's phone shows the carrier's caller.
    assert.match(answering.sipp.messages(), /^From: [^\n]*<sip:\+4989123456@/m)
    assert.notInclude(carrier.messages(), 'INVITE', 'the call stayed inside')

    const atCarrier = directions(await capture.carrier.stop(), carrierMedia)
    const colleague = directions(await capture.colleague.stop(), colleagueMedia)
    assert.isAbove(atCarrier.heard, 25, `the colleague is heard: ${JSON.stringify(atCarrier)}`)
    assert.isAbove(atCarrier.spoke, 25, JSON.stringify(atCarrier))
    assert.isAbove(colleague.heard, 25, `the carrier is heard: ${JSON.stringify(colleague)}`)

    const record = await until('the inbound CDR closed', 10_000, () =>
      CallRecord.query()
        .where('company_id', phones.company.id)
        .where('direction', 'inbound')
        .whereNotNull('ended_at')
        .first()
    )
    assert.equal(record.calleeNumber, number)
    assert.equal(record.forwardedTo, '24')
    assert.equal(record.forwardReason, 'no_answer')
    assert.isNotNull(record.answeredAt)
    assert.equal(record.disconnectCause, 'answered_normal')
  }).timeout(60_000)

  test('a shared number’s rule: nobody’s phone is registered, the carrier’s call goes out to the external number as the call of the admin who set the rule', async ({
    assert,
  }) => {
    const phones = await office()
    const admin = await makeUser('admin', phones.company)
    const number = `+4930303${String(Math.floor(Math.random() * 900) + 100)}`
    const ours = await ourNumber(number, 'trunk', phones.company)
    await PhoneNumberForwarding.create({
      phoneNumberId: ours.id,
      companyId: phones.company.id,
      condition: 'unreachable',
      targetUserId: null,
      targetNumber: '+4940123457',
      ringSeconds: null,
      setByUserId: admin.id,
    })

    const caller = await carrierCalls(number, 'race_carrier_calls_in.xml')
    cleanups.push(caller.stop)
    await expectExit(caller, 0, assert)
    await expectExit(carrier, 0, assert)
    const invite = carrier
      .messages()
      .split(/\r?\n\r?\n/)
      .find((part) => /INVITE sip:/.test(part))!
    assert.match(invite, /^INVITE sip:\+?4940123457@/m)
    assert.match(invite, /^Diversion: [^\n]*reason=unavailable/m)

    const inbound = await until('the forwarded CDR closed', 10_000, () =>
      CallRecord.query()
        .where('company_id', phones.company.id)
        .where('direction', 'inbound')
        .whereNotNull('ended_at')
        .first()
    )
    assert.equal(inbound.forwardedTo, '+4940123457')
    assert.equal(inbound.forwardReason, 'unreachable')
    assert.isNotNull(inbound.answeredAt)
    const out = await until('the outbound CDR closed', 10_000, () =>
      CallRecord.query().where('forwarded_from_uuid', inbound.uuid).whereNotNull('ended_at').first()
    )
    assert.equal(out.direction, 'outbound')
    assert.equal(out.userId, admin.id)
    assert.equal(out.callerNumber, number)
    assert.equal(out.disconnectCause, 'answered_normal')
  }).timeout(60_000)
})
