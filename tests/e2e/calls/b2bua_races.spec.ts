import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from '@japa/runner'
import dgram from 'node:dgram'
import CallRecord from '#calls/models/call_record'
import { RTCP_RR, RTCP_SR, parseRtcp } from '#media/rtcp_packet'
import mediaConfig from '#config/media'
import { completedCdr, loopbackCarriers, startB2bua } from '#tests/support/calls'
import {
  RtpEndpoint,
  expectExit,
  leftBehind,
  phoneFor,
  receivedStatuses,
  sdpPort,
  sippCarrier,
  sippPhoneCall,
  sleep,
  type ReceivedRtp,
} from '#tests/e2e/calls/b2bua_races_peers'

/**
 * Races and edge cases of outbound calls through the B2BUA, each against real sipp peers (a
 * customer's SIP phone with digest credentials calling out, carriers answering on loopback) with
 * their exit codes asserted: CANCEL before and across an answer, early media from two forks,
 * the carrier hanging up and holding, the media timeout, and offers we cannot use.
 */

/** Real time for the INVITE and CANCEL server transactions to end once SIP time moved past Timer J/L. */
const TRANSACTIONS_GONE_MS = 5000

test.group('B2BUA races: CANCEL', (group) => {
  const cleanups: Array<() => unknown> = []
  group.setup(async () => {
    await startB2bua()
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  test('CANCEL before any answer: the carrier is canceled, the caller gets 487, nothing is left', async ({
    assert,
  }) => {
    const phone = await phoneFor()
    const carrier = await sippCarrier('uas_cancel.xml')
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))

    const call = await sippPhoneCall(phone, '+4930200001', 'race_phone_cancel.xml')
    await expectExit(call, 0, assert)
    await expectExit(carrier, 0, assert)
    assert.include(carrier.messages(), 'CANCEL sip:+4930200001@127.0.0.1')

    const record = await completedCdr()
    assert.equal(record.disconnectCause, 'cancelled')
    assert.equal(record.sipStatus, 487)
    assert.equal(record.hungUpBy, 'caller')
    assert.isNull(record.answeredAt)
    assert.deepEqual(await leftBehind({ transactions: true, ms: TRANSACTIONS_GONE_MS }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(90_000)

  test('CANCEL crossing the carrier 200: the carrier leg gets ACK and BYE, the caller 487', async ({
    assert,
  }) => {
    const phone = await phoneFor()
    // Answers 200 only after it has our CANCEL: the two cross exactly as on the wire.
    const carrier = await sippCarrier('uas_cancel_crossing.xml')
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))

    const call = await sippPhoneCall(phone, '+4930200002', 'race_phone_cancel.xml')
    await expectExit(call, 0, assert)
    // sipp exits 0 only after the ACK of its 200 and a BYE, which it answers.
    await expectExit(carrier, 0, assert)
    const messages = carrier.messages()
    assert.include(messages, 'ACK sip:sipp@')
    assert.include(messages, 'BYE sip:sipp@')
    // The caller saw its INVITE challenged, then ended 487: never a 200.
    const statuses = receivedStatuses(call.messages(), 'INVITE').filter((status) => status >= 200)
    assert.deepEqual([...new Set(statuses)], [401, 487])

    const record = await completedCdr()
    assert.equal(record.disconnectCause, 'cancelled')
    assert.equal(record.sipStatus, 487)
    assert.isNull(record.answeredAt)
    assert.deepEqual(await leftBehind({ transactions: true, ms: TRANSACTIONS_GONE_MS }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(90_000)

  test('a CANCEL after our 200 changes nothing: the caller ACKs and BYEs, the carrier gets BYE', async ({
    assert,
  }) => {
    const phone = await phoneFor()
    const carrier = await sippCarrier('carrier_answer_echo.xml', { echo: true })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))

    const call = await sippPhoneCall(phone, '+4930200003', 'race_phone_cancel_after_answer.xml')
    await expectExit(call, 0, assert)
    await expectExit(carrier, 0, assert)

    const record = await completedCdr()
    assert.isNotNull(record.answeredAt)
    assert.equal(record.disconnectCause, 'answered_normal')
    assert.equal(record.hungUpBy, 'caller')
    assert.deepEqual(await leftBehind({ transactions: true, ms: TRANSACTIONS_GONE_MS }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(90_000)
})

/** Our carrier leg's port, as the fork scenario wrote it from our INVITE's offer. */
async function offeredPort(carrier: { directory: string; messages(): string }, ms = 10_000) {
  const file = join(carrier.directory, 'leg_port')
  const deadline = Date.now() + ms
  for (;;) {
    const port = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : 0
    if (port > 0) return port
    if (Date.now() > deadline)
      throw new Error(`no INVITE at the carrier within ${ms} ms:\n${carrier.messages()}`)
    await sleep(20)
  }
}

/** Consecutive packets towards the caller: one SSRC, sequence +1 each, timestamps moving on. */
function assertContinuous(assert: any, packets: ReceivedRtp[]) {
  assert.lengthOf(new Set(packets.map((packet) => packet.ssrc)), 1, 'one SSRC towards the caller')
  for (let index = 1; index < packets.length; index++) {
    const previous = packets[index - 1]
    const current = packets[index]
    assert.equal((current.seq - previous.seq) & 0xffff, 1, `sequence continues at packet ${index}`)
    const step = (current.timestamp - previous.timestamp) >>> 0
    assert.isTrue(
      step >= 160 && step < 0x80000000,
      `timestamp moves forward at packet ${index} (step ${step})`
    )
  }
}

const FORK_A = 0xa1
const FORK_B = 0xb2

test.group('B2BUA races: early media from two forks', (group) => {
  const cleanups: Array<() => unknown> = []
  group.setup(async () => {
    const b2bua = await startB2bua()
    b2bua.setMediaTimeout(30)
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  async function forkedCall(
    codecs: { a: [string, string]; b: [string, string] },
    scenario: string
  ) {
    const phone = await phoneFor()
    const caller = await new RtpEndpoint('127.0.0.2').open()
    const forkA = await new RtpEndpoint('127.0.0.1').open()
    const forkB = await new RtpEndpoint('127.0.0.1').open()
    cleanups.push(
      () => caller.close(),
      () => forkA.close(),
      () => forkB.close()
    )
    const carrier = await sippCarrier('race_carrier_early_forks.xml', {
      keys: {
        forka: String(forkA.port),
        forkb: String(forkB.port),
        pta: codecs.a[0],
        namea: codecs.a[1],
        ptb: codecs.b[0],
        nameb: codecs.b[1],
      },
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const call = await sippPhoneCall(phone, '+4930200010', scenario, {
      keys: { callermedia: String(caller.port) },
      pauseMs: 1500,
    })
    // Both forks play from the start: our carrier leg may take only the fork its SDP names.
    const legPort = await offeredPort(carrier)
    forkA.play(legPort, Number(codecs.a[0]), FORK_A)
    forkB.play(legPort, Number(codecs.b[0]), FORK_B)
    return { call, carrier, caller }
  }

  test('media follows the answering fork; towards the caller SSRC and sequence continue', async ({
    assert,
  }) => {
    const { call, carrier, caller } = await forkedCall(
      { a: ['8', 'PCMA'], b: ['8', 'PCMA'] },
      'race_phone_early_media.xml'
    )
    await expectExit(call, 0, assert)
    await expectExit(carrier, 0, assert)

    const packets = caller.received
    const fromA = packets.filter((packet) => packet.tag === FORK_A)
    const fromB = packets.filter((packet) => packet.tag === FORK_B)
    // 1.5 s of fork A's early media, then fork B's early media and its answer (1.5 s + 1.5 s).
    assert.isAbove(fromA.length, 40, 'the caller heard the first fork')
    assert.isAbove(fromB.length, 100, 'the caller heard the second fork')
    const firstB = packets.indexOf(fromB[0])
    assert.isTrue(
      packets.slice(firstB).every((packet) => packet.tag === FORK_B),
      'nothing of fork A after fork B took over'
    )
    assert.isTrue(
      packets.every((packet) => packet.payloadType === 8),
      'PCMA throughout'
    )
    assertContinuous(assert, packets)

    const record = await completedCdr()
    assert.equal(record.disconnectCause, 'answered_normal')
    // The losing fork's early dialog lives as long as the INVITE transaction (RFC 3261 13.2.2.4).
    assert.deepEqual(await leftBehind({ transactions: true, ms: TRANSACTIONS_GONE_MS }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(90_000)

  test('an answer with another codec than the early media re-offers the caller that codec', async ({
    assert,
  }) => {
    const { call, carrier, caller } = await forkedCall(
      { a: ['8', 'PCMA'], b: ['0', 'PCMU'] },
      'race_phone_early_reoffer.xml'
    )
    await expectExit(call, 0, assert)
    await expectExit(carrier, 0, assert)

    const packets = caller.received
    const fromA = packets.filter((packet) => packet.tag === FORK_A)
    const fromB = packets.filter((packet) => packet.tag === FORK_B)
    assert.isAbove(fromA.length, 40, 'the caller heard the first fork')
    assert.isAbove(fromB.length, 40, 'the caller hears the answering fork after the re-offer')
    // Never a transcoder, never audio under the wrong payload type.
    assert.isTrue(
      fromA.every((packet) => packet.payloadType === 8),
      'fork A: PCMA as answered'
    )
    assert.isTrue(
      fromB.every((packet) => packet.payloadType === 0),
      'fork B: PCMU only after the re-offer'
    )
    const reinvite = call.messages().lastIndexOf('INVITE sip:')
    assert.isAbove(reinvite, 0, 'the caller got a re-INVITE')
    assert.match(call.messages().slice(reinvite), /m=audio \d+ RTP\/AVP 0 101\r?\n/)
    assertContinuous(assert, packets)

    const record = await completedCdr()
    assert.equal(record.disconnectCause, 'answered_normal')
    // The losing fork's early dialog lives as long as the INVITE transaction (RFC 3261 13.2.2.4).
    assert.deepEqual(await leftBehind({ transactions: true, ms: TRANSACTIONS_GONE_MS }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(90_000)
})

test.group('B2BUA races: hang-up, hold and the media timeout', (group) => {
  const cleanups: Array<() => unknown> = []
  group.setup(async () => {
    await startB2bua()
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
    const b2bua = await startB2bua()
    b2bua.setMediaTimeout(mediaConfig.mediaTimeoutSeconds)
  })

  test('BYE from the carrier ends the caller leg with a BYE', async ({ assert }) => {
    const phone = await phoneFor()
    const carrier = await sippCarrier('race_carrier_bye.xml', { tone: true })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))

    const call = await sippPhoneCall(phone, '+4930200020', 'race_phone_bye_in.xml', { tone: true })
    await expectExit(carrier, 0, assert)
    await expectExit(call, 0, assert)
    assert.include(call.messages(), 'BYE sip:')

    const record = await completedCdr()
    assert.equal(record.disconnectCause, 'answered_normal')
    assert.equal(record.hungUpBy, 'callee')
    assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(60_000)

  test('carrier hold is a direction change for the caller; silence on hold is no timeout, after it is', async ({
    assert,
  }) => {
    const b2bua = await startB2bua()
    b2bua.setMediaTimeout(2)
    const phone = await phoneFor()
    const carrier = await sippCarrier('race_carrier_hold_timeout.xml', {
      tone: true,
      timeoutSeconds: 30,
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))

    const call = await sippPhoneCall(phone, '+4930200021', 'race_phone_held.xml', {
      tone: true,
      timeoutSeconds: 30,
    })
    await expectExit(carrier, 0, assert)
    await expectExit(call, 0, assert)

    // The caller's re-INVITEs keep its answer's port and codec; only the direction changes.
    const messages = call.messages()
    const answered = sdpPort(
      messages.slice(0, messages.indexOf('INVITE sip:', messages.indexOf('SIP/2.0 200'))),
      'SIP/2.0 200'
    )
    const reinvites = messages
      .split(/(?=INVITE sip:)/)
      .filter((part) => part.startsWith('INVITE sip:'))
      .slice(2)
    assert.lengthOf(reinvites, 2, 'hold and resume reached the caller')
    assert.include(reinvites[0], 'a=sendonly')
    assert.include(reinvites[1], 'a=sendrecv')
    for (const reinvite of reinvites) assert.equal(sdpPort(reinvite, 'INVITE sip:'), answered)
    assert.include(carrier.messages(), 'a=recvonly')

    const record = await completedCdr()
    assert.equal(record.disconnectCause, 'media_timeout')
    assert.equal(record.hungUpBy, 'system')
    // Answered, 1 s of audio, 4 s of silent hold (twice the timeout), resumed, 2 s to the timeout.
    assert.isAtLeast(record.durationSeconds!, 6)
    assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
      dialogs: 0,
      transactions: 0,
      mediaLegs: 0,
    })
  }).timeout(60_000)
})

test.group('B2BUA races: offers we cannot use', (group) => {
  const cleanups: Array<() => unknown> = []
  group.setup(async () => {
    await startB2bua()
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  const offers = {
    'garbage': {
      v: 'banana',
      c: 'IN IP4 not-an-address',
      m: 'audio many RTP/AVP ??',
      a: 'rtpmap:x y',
    },
    'no audio stream': {
      v: '0',
      c: 'IN IP4 127.0.0.2',
      m: 'video 5004 RTP/AVP 96',
      a: 'rtpmap:96 H264/90000',
    },
    'only G.722': {
      v: '0',
      c: 'IN IP4 127.0.0.2',
      m: 'audio 5004 RTP/AVP 9',
      a: 'rtpmap:9 G722/8000',
    },
    'PCMA at a host name': {
      v: '0',
      c: 'IN IP4 phone.example',
      m: 'audio 5004 RTP/AVP 8',
      a: 'rtpmap:8 PCMA/8000',
    },
    'PCMA on port 0': {
      v: '0',
      c: 'IN IP4 127.0.0.2',
      m: 'audio 0 RTP/AVP 8',
      a: 'rtpmap:8 PCMA/8000',
    },
  }

  test('{$self} from a phone is refused 488 before any carrier hears of it')
    .with(Object.keys(offers) as Array<keyof typeof offers>)
    .run(async ({ assert }, name) => {
      const phone = await phoneFor()
      const carrier = await sippCarrier('carrier_answer_echo.xml', { timeoutSeconds: 4 })
      cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
      const before = await CallRecord.query().count('* as total')

      const call = await sippPhoneCall(phone, '+4930200030', 'race_phone_bad_offer.xml', {
        keys: offers[name],
      })
      await expectExit(call, 0, assert)
      assert.include(call.messages(), 'SIP/2.0 488')
      const idle = await carrier.done
      assert.notEqual(idle.code, 0)
      assert.notInclude(carrier.messages(), 'INVITE sip:')
      // Refused before a call attempt exists: no CDR, nothing open.
      const after = await CallRecord.query().count('* as total')
      assert.equal(after[0].$extras.total, before[0].$extras.total)
      assert.deepEqual(await leftBehind({ transactions: false, ms: 5000 }), {
        dialogs: 0,
        transactions: 0,
        mediaLegs: 0,
      })
    })
    .timeout(30_000)
})

/** An RTP endpoint on an even port whose odd neighbour (its RTCP port, RFC 3550 §11) is ours too. */
async function endpointWithRtcp(host: string) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + 2 * Math.floor(Math.random() * 9_000)
    const rtcp = dgram.createSocket('udp4')
    const bound = await new Promise<boolean>((resolve) => {
      rtcp.once('error', () => resolve(false))
      rtcp.bind(port + 1, host, () => resolve(true))
    })
    if (!bound) {
      rtcp.close()
      continue
    }
    const endpoint = new RtpEndpoint(host)
    try {
      await endpoint.open(port)
    } catch {
      rtcp.close()
      continue
    }
    const reports: Buffer[] = []
    rtcp.on('message', (packet) => reports.push(packet))
    return { endpoint, reports, close: () => new Promise<void>((r) => rtcp.close(() => r())) }
  }
  throw new Error('no free RTP/RTCP port pair on ' + host)
}

test.group('B2BUA: call quality on the CDR', (group) => {
  const cleanups: Array<() => unknown> = []
  group.setup(async () => {
    const b2bua = await startB2bua()
    b2bua.setMediaTimeout(30)
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  test('the carrier loses every 20th packet it sends: about 5 % loss and a lower MOS on its side of the CDR; our RTCP reaches it', async ({
    assert,
  }) => {
    const phone = await phoneFor()
    const carrierMedia = await endpointWithRtcp('127.0.0.1')
    cleanups.push(
      () => carrierMedia.endpoint.close(),
      () => carrierMedia.close()
    )
    const carrier = await sippCarrier('carrier_answer_media_at.xml', {
      keys: { carriermedia: String(carrierMedia.endpoint.port) },
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    // The phone speaks a clean tone for 7 s; the carrier's audio loses every 20th packet
    const call = await sippPhoneCall(phone, '+4930200099', 'phone_call_out_tone.xml', {
      tone: true,
      pauseMs: 7000,
    })
    const legPort = await offeredPort(carrier)
    carrierMedia.endpoint.play(legPort, 8, 0x55, 20)
    await expectExit(call, 0, assert)
    await expectExit(carrier, 0, assert)

    const record = await completedCdr()
    assert.equal(record.disconnectCause, 'answered_normal')
    assert.isAbove(carrierMedia.endpoint.dropped, 10, 'the carrier left packets out')
    assert.isNotNull(record.calleeLossPercent, JSON.stringify(record.serialize()))
    assert.isAtLeast(record.calleeLossPercent!, 3)
    assert.isAtMost(record.calleeLossPercent!, 7)
    assert.isNotNull(record.callerLossPercent)
    assert.isBelow(record.callerLossPercent!, 1, 'the phone’s tone arrived whole')
    assert.isBelow(record.calleeMos!, record.callerMos!, 'the lossy side sounds worse')
    assert.isAbove(record.callerMos!, 4)
    assert.equal(record.qualityMos, record.calleeMos)
    assert.isNotNull(record.calleeJitterMs)
    assert.isNull(record.calleeRttMs, 'the carrier sends no RTCP')

    // Our RTCP on the carrier leg went to the carrier's RTCP port (RTP port + 1): SR/RR + SDES
    assert.isAbove(carrierMedia.reports.length, 0, 'RTCP reached the carrier')
    const parsed = carrierMedia.reports.map((packet) => parseRtcp(packet))
    assert.isTrue(parsed.every((report) => report !== null))
    const kinds = parsed.flatMap((report) => report!.reports.map((entry) => entry.type))
    assert.isTrue(kinds.every((kind) => kind === RTCP_SR || kind === RTCP_RR))
    assert.include(kinds, RTCP_SR, 'we relayed the phone’s audio to it: a sender report')
    const blocks = parsed.flatMap((report) => report!.reports.flatMap((entry) => entry.blocks))
    assert.isAbove(blocks.at(-1)!.cumulativeLost, 10, 'our receiver report counts its loss')
  }).timeout(60_000)
})
