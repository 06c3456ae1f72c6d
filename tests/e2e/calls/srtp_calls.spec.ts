import { test } from '@japa/runner'
import type B2bua from '#calls/b2bua/b2bua'
import type CallRecord from '#calls/models/call_record'
import SipDevice from '#calls/models/sip_device'
import app from '@adonisjs/core/services/app'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import { sipSubjectParts, userSubject } from '#calls/signalling/sip_subject'
import { completedCdr, loopbackCarriers, ourNumber, startB2bua } from '#tests/support/calls'
import {
  alawToneWav,
  captureRtp,
  type RtpCapture,
  type RtpPacket,
} from '#tests/support/rtp_capture'
import { until } from '#tests/support/server_process'
import {
  byteEntropy,
  rtpPortPair,
  startBaresip,
  toneShare,
  type Baresip,
} from '#tests/support/baresip'
import {
  expectExit,
  phoneFor,
  sippCarrier,
  sippPhoneCall,
  type Phone,
} from '#tests/e2e/calls/b2bua_races_peers'

/**
 * SDES-SRTP end to end with real peers: baresip as a customer's desk phone over TLS with
 * `mediaenc srtp-mand`, and baresip as a carrier whose profile says srtp 'sdes' (a `local`
 * carrier over TLS). tshark decodes SRTP as plain RTP, so encryption is shown by the payload
 * bytes' entropy on both legs (a G.711 tone is far below 7.5 bits per byte, random bytes near 8);
 * each side's recording shows the other side's tone, so the audio went through both
 * decryptions and encryptions of the relay. Without baresip the tests fail and say so.
 */

const PHONE_TONE = 440
const CARRIER_TONE = 1000

async function ourTlsPort() {
  const stack = await app.container.make('sip.stack')
  const address = stack.layer.localAddress('tls')
  if (!address) throw new Error('SIP TLS is not listening (SIP_TRANSPORTS must include tls)')
  return address.port
}

/** The phone's account: digest credentials, our TLS port as its outbound proxy, SRTP required (or none: ''). */
async function phoneAccount(phone: Phone, extra: string, mediaenc = 'srtp-mand') {
  const proxy = `sip:127.0.0.1:${await ourTlsPort()};transport=tls`
  const encryption = mediaenc ? `mediaenc=${mediaenc};` : ''
  return `<sip:${phone.username}@${configuredRealm()};transport=tls>;auth_pass=${phone.password};outbound="${proxy}";${encryption}${extra}`
}

/** A carrier's account: answers whatever it is sent to `number`, SRTP required. */
function carrierAccount(number: string, mediaenc = 'srtp-mand') {
  const encryption = mediaenc ? `;mediaenc=${mediaenc}` : ''
  return `<sip:${number}@127.0.0.1;transport=tls>;regint=0;answermode=auto${encryption}`
}

/** The device row once its last call was noted (without waiting, so it may come just after). */
function lastCallOf(phone: Phone) {
  return until('the call noted on the device', 5000, async () => {
    const row = await SipDevice.findOrFail(phone.deviceId)
    return row.lastCallAt ? row : null
  })
}

/** The payloads on one leg, per direction: sent to the peer's port, and sent from it. */
function payloads(packets: RtpPacket[], port: number) {
  return {
    toPeer: packets.filter((packet) => packet.toPort === port).map((packet) => packet.payload),
    fromPeer: packets.filter((packet) => packet.fromPort === port).map((packet) => packet.payload),
  }
}

function describe(peers: Record<string, Baresip>) {
  return Object.entries(peers)
    .map(([name, peer]) => `--- ${name}:\n${peer.output().slice(-3000)}`)
    .join('\n')
}

/**
 * A secure call both ways: each side heard the other's tone (decrypted, relayed and encrypted
 * again by us), the CDR flags both legs' signalling and media encrypted, and the devices page
 * says SRTP for the phone.
 */
async function assertSecureCall(
  assert: { isAbove: Function; isTrue: Function; isNotNull: Function; notMatch: Function },
  call: {
    phone: Phone
    record: CallRecord
    phoneHeard: Int16Array | null
    carrierHeard: Int16Array | null
    /** Both baresips' output. */
    output: string
  }
) {
  const heardByPhone = toneShare(call.phoneHeard ?? new Int16Array(), CARRIER_TONE)
  const heardByCarrier = toneShare(call.carrierHeard ?? new Int16Array(), PHONE_TONE)
  assert.isAbove(heardByPhone.loudBlocks, 20, `the phone heard: ${JSON.stringify(heardByPhone)}`)
  assert.isAbove(heardByPhone.share, 0.8, 'the phone heard the carrier’s tone')
  assert.isAbove(heardByCarrier.loudBlocks, 20, JSON.stringify(heardByCarrier))
  assert.isAbove(heardByCarrier.share, 0.8, 'the carrier heard the phone’s tone')

  // Round-trip times from baresip's SRTCP reports: they name our SRTCP SRs (LSR), so both
  // sides decrypted the other's SRTCP; and baresip logs every SRTCP packet it cannot decrypt
  assert.isNotNull(call.record.callerRttMs, `the caller leg's RTT from SRTCP\n${call.output}`)
  assert.isNotNull(call.record.calleeRttMs, `the callee leg's RTT from SRTCP\n${call.output}`)
  assert.notMatch(call.output, /failed to decrypt RTCP/)

  assert.isTrue(call.record.callerSignallingEncrypted)
  assert.isTrue(call.record.callerMediaEncrypted)
  assert.isTrue(call.record.calleeSignallingEncrypted)
  assert.isTrue(call.record.calleeMediaEncrypted)
  assert.isTrue((await lastCallOf(call.phone)).lastCallEncrypted, 'the devices page says SRTP')
}

test.group('SRTP calls: baresip as a TLS phone and an sdes carrier', (group) => {
  const cleanups: Array<() => unknown> = []
  const captures: RtpCapture[] = []
  let b2bua: B2bua

  group.setup(async () => {
    b2bua = await startB2bua()
  })
  group.each.teardown(async () => {
    for (const capture of captures.splice(0)) await capture.stop()
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  /** Both legs' payloads look random in both directions: at least 7.5 bits per byte. */
  function assertEncrypted(
    assert: { isAbove: Function; isAtLeast: Function; isBelow: Function },
    leg: string,
    packets: RtpPacket[],
    port: number
  ) {
    const { toPeer, fromPeer } = payloads(packets, port)
    // 50 packets/s: several seconds of talk each way
    assert.isAbove(toPeer.length, 100, `${leg}: packets to the peer`)
    assert.isAbove(fromPeer.length, 100, `${leg}: packets from the peer`)
    assert.isAtLeast(byteEntropy(toPeer), 7.5, `${leg}: entropy of what we sent`)
    assert.isAtLeast(byteEntropy(fromPeer), 7.5, `${leg}: entropy of what the peer sent`)
    // The measure tells them apart: the same tone as plain G.711 bytes is far lower
    assert.isBelow(byteEntropy([alawToneWav(2).subarray(44)]), 7.5)
  }

  /** A desk phone (baresip) registered over TLS for a number of ours, answering by itself. */
  async function tlsPhoneWithNumber(options: { mediaenc?: string; rtpPort?: number } = {}) {
    const phone = await phoneFor()
    const number = `+4930${Math.floor(1_000_000 + Math.random() * 8_999_999)}`
    await ourNumber(number, 'secure', phone.company, phone.user.id)
    const device = await startBaresip({
      account: await phoneAccount(phone, 'regint=600;answermode=auto', options.mediaenc),
      seconds: 40,
      toneHz: PHONE_TONE,
      rtpPort: options.rtpPort,
    })
    cleanups.push(device.stop)
    const stack = await app.container.make('sip.stack')
    const binding = await until('the phone’s registration over TLS', 15_000, async () =>
      (await stack.bindingsOfSubject(userSubject(phone.user.id))).find(
        (candidate) => sipSubjectParts(candidate.subject)?.deviceId === phone.deviceId
      )
    ).catch((error) => {
      throw new Error(`${error.message}\n${describe({ device })}`)
    })
    cleanups.push(() => stack.registrar.bindings.remove(binding))
    return { phone, number, device, binding }
  }

  /** The sdes carrier calls `number` over TLS for a few seconds; its CDR once completed. */
  async function carrierCallsIn(number: string, device: Baresip, rtpPort?: number) {
    // A call in is known by its source address (127.0.0.1); the port is where we would send
    cleanups.push(
      await loopbackCarriers({ secure: await ourTlsPort() }, { transport: 'tls', srtp: 'sdes' })
    )
    const carrier = await startBaresip({
      account: carrierAccount('+4930555000'),
      dial: `sip:${number}@127.0.0.1:${await ourTlsPort()};transport=tls`,
      seconds: 8,
      toneHz: CARRIER_TONE,
      rtpPort,
    })
    cleanups.push(carrier.stop)
    await carrier.done
    const record = await completedCdr(15_000).catch((error) => {
      throw new Error(`${error.message}\n${describe({ device, carrier })}`)
    })
    // A 503 says which resource ran out (counted per resource)
    const refused = `refused for capacity: ${JSON.stringify(b2bua.refusedForCapacity)}`
    return { carrier, record, peers: `${refused}\n${describe({ device, carrier })}` }
  }

  test('the TLS phone calls out through us to the sdes carrier: SRTP on both legs, each hears the other, CDR flags set', async ({
    assert,
  }) => {
    const phone = await phoneFor()
    const callee = `+4930${Math.floor(1_000_000 + Math.random() * 8_999_999)}`
    const carrier = await startBaresip({
      account: carrierAccount(callee),
      seconds: 30,
      toneHz: CARRIER_TONE,
    })
    cleanups.push(
      carrier.stop,
      await loopbackCarriers({ secure: carrier.tlsPort }, { transport: 'tls', srtp: 'sdes' })
    )
    const phoneRtp = await rtpPortPair()
    const phoneLeg = await captureRtp(phoneRtp)
    const carrierLeg = await captureRtp(carrier.rtpPort)
    captures.push(phoneLeg, carrierLeg)

    const caller = await startBaresip({
      account: await phoneAccount(phone, 'regint=0'),
      dial: `sip:${callee}@127.0.0.1:${await ourTlsPort()};transport=tls`,
      seconds: 8,
      toneHz: PHONE_TONE,
      rtpPort: phoneRtp,
    })
    cleanups.push(caller.stop)
    await caller.done
    const record = await completedCdr(15_000).catch((error) => {
      throw new Error(`${error.message}\n${describe({ caller, carrier })}`)
    })
    const peers = describe({ caller, carrier })

    assert.isNotNull(record.answeredAt, peers)
    assert.equal(record.direction, 'outbound')
    assert.equal(record.carrierName, 'secure')
    assert.match(caller.output(), /SRTP is Enabled/, peers)
    assert.match(carrier.output(), /SRTP is Enabled/, peers)
    assertEncrypted(assert, 'phone leg', await phoneLeg.stop(), phoneRtp)
    assertEncrypted(assert, 'carrier leg', await carrierLeg.stop(), carrier.rtpPort)

    // Each side recorded the other's tone: decrypted, relayed and encrypted again by us
    await assertSecureCall(assert, {
      phone,
      record,
      phoneHeard: await caller.heard(),
      carrierHeard: await carrier.heard(),
      output: caller.output() + carrier.output(),
    })
  }).timeout(60_000)

  test('the sdes carrier calls in to the phone registered over TLS: SRTP on both legs, each hears the other, CDR flags set', async ({
    assert,
  }) => {
    const phoneRtp = await rtpPortPair()
    const phoneLeg = await captureRtp(phoneRtp)
    captures.push(phoneLeg)
    const { phone, number, device, binding } = await tlsPhoneWithNumber({ rtpPort: phoneRtp })
    assert.equal(binding.source.protocol, 'tls')
    const carrierRtp = await rtpPortPair()
    const carrierLeg = await captureRtp(carrierRtp)
    captures.push(carrierLeg)
    const { carrier, record, peers } = await carrierCallsIn(number, device, carrierRtp)

    assert.isNotNull(record.answeredAt, peers)
    assert.equal(record.direction, 'inbound')
    assert.match(device.output(), /SRTP is Enabled/, peers)
    assert.match(carrier.output(), /SRTP is Enabled/, peers)
    assertEncrypted(assert, 'carrier leg', await carrierLeg.stop(), carrierRtp)
    assertEncrypted(assert, 'phone leg', await phoneLeg.stop(), phoneRtp)

    await assertSecureCall(assert, {
      phone,
      record,
      phoneHeard: await device.heard(),
      carrierHeard: await carrier.heard(),
      output: device.output() + carrier.output(),
    })
  }).timeout(60_000)

  test('a TLS phone set to plain RTP refuses our SRTP offer with 488 and is rung again with RTP: the call connects, media flagged plain', async ({
    assert,
  }) => {
    const { phone, number, device } = await tlsPhoneWithNumber({ mediaenc: '' })
    const { record, peers } = await carrierCallsIn(number, device)
    assert.isNotNull(record.answeredAt, peers)
    assert.isTrue(record.calleeSignallingEncrypted, peers)
    assert.isFalse(record.calleeMediaEncrypted, 'the phone talks plain RTP')
    assert.isTrue(record.callerMediaEncrypted, 'the carrier leg stays SRTP')
    const heard = (await device.heard()) ?? new Int16Array()
    const heardByPhone = toneShare(heard, CARRIER_TONE)
    const what = JSON.stringify({ ...heardByPhone, samples: heard.length })
    assert.isAbove(heardByPhone.share, 0.8, `the phone heard the carrier (${what}): ${peers}`)
    assert.isFalse((await lastCallOf(phone)).lastCallEncrypted, 'the devices page says plain')
  }).timeout(60_000)

  test('a plain RTP offer from the sdes carrier is refused with 488 and its reason', async ({
    assert,
  }) => {
    const phone = await phoneFor()
    const number = `+4930${Math.floor(1_000_000 + Math.random() * 8_999_999)}`
    await ourNumber(number, 'secure', phone.company, phone.user.id)
    cleanups.push(
      await loopbackCarriers({ secure: await ourTlsPort() }, { transport: 'tls', srtp: 'sdes' })
    )
    const carrier = await startBaresip({
      account: carrierAccount('+4930555000', ''),
      dial: `sip:${number}@127.0.0.1:${await ourTlsPort()};transport=tls`,
      seconds: 4,
      toneHz: CARRIER_TONE,
    })
    cleanups.push(carrier.stop)
    await carrier.done
    assert.match(carrier.output(), /488 This carrier must offer SRTP/, carrier.output())
    const record = await completedCdr(5000)
    assert.equal(record.sipStatus, 488)
    assert.isNull(record.answeredAt)
  }).timeout(30_000)
})

test.group('SRTP offers over plain signalling and unusable a=crypto lines', (group) => {
  const cleanups: Array<() => unknown> = []

  group.setup(async () => {
    await startB2bua()
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  /** race_phone_bad_offer.xml's SDP lines: RTP/SAVP with one a=crypto line. */
  function savpOffer(crypto: string) {
    return { v: '0', c: 'IN IP4 127.0.0.2', m: 'audio 6000 RTP/SAVP 8', a: `crypto:${crypto}` }
  }

  test('RTP/SAVP with a key from a phone over UDP: 488 "SRTP keys are accepted over TLS only"', async ({
    assert,
  }) => {
    const phone = await phoneFor()
    const key = Buffer.alloc(30, 3).toString('base64')
    const call = await sippPhoneCall(phone, '+4930200040', 'race_phone_bad_offer.xml', {
      keys: savpOffer(`1 AES_CM_128_HMAC_SHA1_80 inline:${key}`),
    })
    cleanups.push(call.stop)
    await expectExit(call, 0, assert)
    assert.include(call.messages(), 'SIP/2.0 488 SRTP keys are accepted over TLS only')
  }).timeout(30_000)

  test('a garbled a=crypto line from a phone over TLS: 488 with the reason, and the node takes the next call', async ({
    assert,
  }) => {
    const phone = await phoneFor()
    const call = await sippPhoneCall(phone, '+4930200041', 'race_phone_bad_offer.xml', {
      tls: true,
      keys: savpOffer('1 AES_CM_128_HMAC_SHA1_80 inline:not*base64'),
    })
    cleanups.push(call.stop)
    await expectExit(call, 0, assert)
    assert.include(
      call.messages(),
      'SIP/2.0 488 No usable a=crypto line (tag 1: the inline key is not valid base64)'
    )
    // Nothing crashed: the same phone is answered as usual right after (a plain offer over UDP)
    const next = await sippPhoneCall(phone, '+4930200042', 'race_phone_bad_offer.xml', {
      keys: { v: '0', c: 'IN IP4 127.0.0.2', m: 'audio 6000 RTP/AVP 9', a: 'rtpmap:9 G722/8000' },
    })
    cleanups.push(next.stop)
    await expectExit(next, 0, assert)
    assert.include(next.messages(), 'SIP/2.0 488 PCMU, PCMA or Opus required')
  }).timeout(30_000)

  test('112 with RTP/SAVP over UDP is not refused (§ 164 TKG): SRTP answer, connected, CDR flags plain signalling, encrypted media', async ({
    assert,
  }) => {
    const phone = await phoneFor()
    const carrier = await sippCarrier('carrier_answer_echo.xml', { timeoutSeconds: 20 })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const key = Buffer.alloc(30, 5).toString('base64')
    const call = await sippPhoneCall(phone, '112', 'phone_srtp_call_out.xml', {
      keys: { crypto: `1 AES_CM_128_HMAC_SHA1_80 inline:${key}` },
      pauseMs: 1000,
    })
    cleanups.push(call.stop)
    await expectExit(call, 0, assert)
    const record = await completedCdr()
    assert.isTrue(record.emergency)
    assert.isNotNull(record.answeredAt)
    assert.isFalse(record.callerSignallingEncrypted)
    assert.isTrue(record.callerMediaEncrypted)
    // The loopback carrier is plain UDP and RTP
    assert.isFalse(record.calleeSignallingEncrypted)
    assert.isFalse(record.calleeMediaEncrypted)
  }).timeout(30_000)
})
