import { test } from '@japa/runner'
import { webPhoneGroup } from '#tests/browser/phone/phone_pages'
import app from '@adonisjs/core/services/app'
import type { Browser, Page } from 'playwright-core'
import PhoneNumber from '#calls/models/phone_number'
import CallRecord from '#calls/models/call_record'
import { launchPhoneBrowser } from '#tests/support/chromium'
import { loginThroughForm, uniqueCompany, uniqueUser } from '#tests/support/browser'
import { freePort, startSipp, type SippProcess } from '#tests/support/sip_peers'
import { loopbackCarriers } from '#tests/support/calls'
import { alawToneWav, captureRtp, packetRate, type RtpPacket } from '#tests/support/rtp_capture'
import { userSubject } from '#calls/signalling/sip_subject'

/**
 * The web phone end to end: Debian's Chromium with a fake microphone, our B2BUA and werift media
 * relay, and sipp as the carrier on loopback. What sipp receives is counted by tshark on sipp's
 * media port, so a server that merely echoed the browser's audio back could not pass: sipp sends
 * its own tone for a few seconds only, and the browser must stop receiving when sipp stops.
 */

const PHONE = '#web-phone'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function openPhone(browser: Browser, email: string): Promise<Page> {
  const context = await browser.newContext({
    baseURL: `http://${process.env.HOST}:${process.env.PORT}`,
    locale: 'de-DE',
    permissions: ['microphone'],
  })
  const page = await context.newPage()
  await loginThroughForm(page, email)
  await page.goto('/app/phone')
  await page.waitForSelector(`${PHONE}[data-phone-registration="registered"]`, { timeout: 15_000 })
  return page
}

async function inState(page: Page, state: string, timeout = 15_000) {
  try {
    await page.waitForSelector(`${PHONE}[data-phone-state="${state}"]`, { timeout })
  } catch (error) {
    const seen = await page.evaluate(() => {
      const root = (globalThis as any).document.querySelector('#web-phone')
      return JSON.stringify({ ...root?.dataset, texts: undefined })
    })
    throw new Error(`the phone did not reach "${state}": ${seen}`, { cause: error })
  }
}

/** The browser's own RTP counters and codec (getStats on the web phone's RTCPeerConnection). */
async function rtpCounters(page: Page) {
  return page.evaluate(async () => {
    const connection = (globalThis as any).__phone?.peerConnection
    if (!connection) return { received: -1, sent: -1, codec: '' }
    let received = 0
    let sent = 0
    let codec = ''
    const stats = await connection.getStats()
    stats.forEach((report: any) => {
      if (report.type === 'inbound-rtp' && report.kind === 'audio') {
        received = report.packetsReceived
        codec = stats.get(report.codecId)?.mimeType ?? ''
      }
      if (report.type === 'outbound-rtp' && report.kind === 'audio') sent = report.packetsSent
    })
    return { received, sent, codec }
  })
}

async function carrier(
  scenario: string,
  mediaPort: number,
  keys: Record<string, string> = {},
  target?: string
): Promise<SippProcess> {
  const sipp = await startSipp({
    scenario,
    transport: 'u1',
    target,
    timeoutSeconds: 60,
    traceMessages: true,
    keys,
    extraArgs: ['-mp', String(mediaPort)],
    // sipp loads its audio (rtp_stream) from its working directory when it starts.
    files: { 'tone.wav': alawToneWav() },
  })
  return sipp
}

function audio(packets: RtpPacket[]) {
  return packets.filter((packet) => packet.payloadType === 8)
}

test.group('Web phone calls through the B2BUA (Chromium, werift, sipp)', (group) => {
  const { created, cleanups, userIds } = webPhoneGroup(group)

  test('outbound: audio both ways, DTMF at 8 kHz, hold re-INVITE, hang-up ends both legs, CDR complete', async ({
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'member', company)
    userIds.push(user.id)
    const own = `+4930${String(Date.now()).slice(-8)}`
    await PhoneNumber.create({
      number: own,
      carrierName: 'loop',
      companyId: company.id,
      userId: user.id,
    })

    const mediaPort = await freePort('udp')
    const capture = await captureRtp(mediaPort)
    const sipp = await carrier('carrier_web_phone.xml', mediaPort)
    cleanups.push(sipp.stop, await loopbackCarriers({ loop: sipp.port }))
    const browser = await launchPhoneBrowser()
    cleanups.push(() => browser.close())
    const page = await openPhone(browser, user.email)

    await page.fill('#phone-number', '+49 30 1234567')
    await page.click('#phone-call')
    await inState(page, 'in-call')
    const answeredAt = Date.now()

    // sipp's tone reaches the browser while sipp sends it.
    await sleep(1000)
    const early = await rtpCounters(page)
    await sleep(2000)
    const later = await rtpCounters(page)
    // The browser offered Opus first, but the carrier is G.711: the server answered with G.711
    assert.match(later.codec, /^audio\/PCM[AU]$/i, JSON.stringify(later))
    assert.isAtLeast(
      later.received - early.received,
      90,
      `browser received ${JSON.stringify({ early, later })}`
    )

    for (const key of ['1', '5', '#']) {
      await page.click(`#phone-dialpad button[data-key="${key}"]`)
      await sleep(400)
    }

    // sipp stops sending 6 s after its ACK: the browser must stop receiving.
    await sleep(Math.max(0, answeredAt + 7500 - Date.now()))
    const stopped = await rtpCounters(page)
    await sleep(1500)
    const stillStopped = await rtpCounters(page)
    assert.isAtMost(
      stillStopped.received - stopped.received,
      2,
      'nothing arrives after sipp stopped sending'
    )
    assert.isAbove(stillStopped.sent - stopped.sent, 50, 'the microphone keeps sending')

    await page.click('#phone-hold')
    await inState(page, 'on-hold')
    await page.click('#phone-hold')
    await inState(page, 'in-call')
    // After hold and resume (two re-INVITEs of the browser leg) the browser's audio reaches sipp again.
    const resumedAt = Date.now() / 1000
    await sleep(2500)
    await page.click('#phone-hangup')
    await page.waitForSelector(`${PHONE}:not([data-phone-state="in-call"])`, { timeout: 10_000 })

    const outcome = await sipp.done
    assert.equal(outcome.code, 0, `${sipp.describe(outcome)}\n${sipp.messages().slice(-5000)}`)
    const packets = await capture.stop()
    const toSipp = packets.filter((packet) => packet.toPort === mediaPort)
    const fromSipp = packets.filter((packet) => packet.fromPort === mediaPort)
    // Every RTP packet counts: while a digit is pressed the browser sends events instead of audio.
    // Over 5 s (before the hold): Chromium's capture thread starved for a moment on a loaded
    // machine made a 3 s window read 43/s (CI, load 11); a relay losing packets shows in any window
    assert.isAtLeast(packetRate(toSipp, 1, 5), 45, 'packets per second from the browser at sipp')
    assert.isAtLeast(
      packetRate(audio(toSipp), 0.5, 2),
      45,
      'audio packets per second before the digits'
    )
    assert.isAtLeast(
      packetRate(audio(fromSipp)),
      45,
      'packets per second from sipp towards the browser'
    )
    const afterResume = toSipp.filter(
      (packet) => packet.time >= resumedAt + 0.5 && packet.time < resumedAt + 2
    )
    assert.isAtLeast(
      afterResume.length / 1.5,
      45,
      'packets per second from the browser at sipp after hold and resume'
    )

    // RFC 4733 at 8 kHz: a 100 ms tone lasts 800 timestamp units (4800 at 48 kHz).
    const ends = toSipp.filter((packet) => packet.event?.end)
    assert.deepEqual([...new Set(ends.map((packet) => packet.event!.id))], [1, 5, 11])
    for (const packet of ends) {
      assert.isAtLeast(packet.event!.duration, 400)
      assert.isAtMost(packet.event!.duration, 2400)
    }

    const messages = sipp.messages()
    assert.match(messages, /INVITE sip:\+49301234567@[\s\S]*a=sendonly/)
    const record = await CallRecord.query()
      .where('user_id', user.id)
      .orderBy('id', 'desc')
      .firstOrFail()
    assert.equal(record.direction, 'outbound')
    assert.equal(record.calleeNumber, '+49301234567')
    assert.equal(record.callerNumber, own)
    assert.equal(record.carrierName, 'loop')
    assert.isNotNull(record.answeredAt)
    assert.isNotNull(record.endedAt)
    assert.equal(record.hungUpBy, 'caller')
    assert.equal(record.disconnectCause, 'answered_normal')
    assert.isAtLeast(record.durationSeconds!, 9)
    // Chromium's receiver reports on our sender reports (SRTCP over DTLS-SRTP) give the RTT
    assert.isNotNull(record.callerRttMs, JSON.stringify(record.serialize()))
    const b2bua = await app.container.make('calls.b2bua')
    assert.lengthOf(b2bua.calls, 0)
  }).timeout(120_000)

  test('inbound: both browsers of the user ring, the first answer wins, audio flows, the carrier hangs up', async ({
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'member', company)
    userIds.push(user.id)
    const ours = `+4930${String(Date.now()).slice(-8)}`
    await PhoneNumber.create({
      number: ours,
      carrierName: 'loop',
      companyId: company.id,
      userId: user.id,
    })

    const browser = await launchPhoneBrowser()
    cleanups.push(() => browser.close())
    const first = await openPhone(browser, user.email)
    const second = await openPhone(browser, user.email)
    const stack = await app.container.make('sip.stack')
    assert.lengthOf(await stack.registrar.registrar.lookupSubject(userSubject(user.id)), 2)

    const sipPort = stack.layer.localAddress('udp')!.port
    // Inbound carriers are recognised by their address (127.0.0.1), not their port.
    cleanups.push(await loopbackCarriers({ loop: await freePort('udp') }))
    const mediaPort = await freePort('udp')
    const capture = await captureRtp(mediaPort)
    const sipp = await carrier(
      'carrier_calls_in.xml',
      mediaPort,
      { callee: ours },
      `127.0.0.1:${sipPort}`
    )
    cleanups.push(sipp.stop)

    await inState(first, 'incoming')
    await inState(second, 'incoming')
    await first.click('#phone-accept')
    await inState(first, 'in-call')
    await second.waitForSelector(`${PHONE}:not([data-phone-state="incoming"])`, { timeout: 10_000 })

    await sleep(2500)
    const counters = await rtpCounters(first)
    assert.isAbove(counters.received, 80, 'the carrier is heard in the browser')
    // The carrier hangs up after 5 s of audio: the browser's call ends.
    await first.waitForSelector(`${PHONE}:not([data-phone-state="in-call"])`, { timeout: 15_000 })
    const outcome = await sipp.done
    assert.equal(outcome.code, 0, `${sipp.describe(outcome)}\n${sipp.messages().slice(-5000)}`)
    const packets = await capture.stop()
    assert.isAtLeast(
      // The carrier hangs up 5 s after its answer; the browser's first packet may come a second or
      // two later on a loaded machine (DTLS, the frame transform's worker): a 2 s window after it
      packetRate(audio(packets.filter((packet) => packet.toPort === mediaPort)), 0.5, 2),
      45,
      'browser audio at the carrier'
    )

    const record = await CallRecord.query()
      .where('callee_number', ours)
      .orderBy('id', 'desc')
      .firstOrFail()
    assert.equal(record.direction, 'inbound')
    assert.equal(record.callerNumber, '+4989123456')
    assert.equal(record.hungUpBy, 'caller')
    assert.isNotNull(record.answeredAt)
    assert.isNotNull(record.endedAt)
  }).timeout(120_000)

  test('echo test: *43 is answered by our own server, the browser hears itself, no carrier involved', async ({
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'member', company)
    userIds.push(user.id)
    // No carrier at all: the echo number must not need one.
    cleanups.push(await loopbackCarriers({}))
    const browser = await launchPhoneBrowser()
    cleanups.push(() => browser.close())
    const page = await openPhone(browser, user.email)

    await page.fill('#phone-number', '*43')
    await page.click('#phone-call')
    await inState(page, 'in-call')
    await sleep(1000)
    const early = await rtpCounters(page)
    await sleep(2000)
    const later = await rtpCounters(page)
    assert.isAtLeast(
      later.received - early.received,
      90,
      `browser received ${JSON.stringify({ early, later })}`
    )
    await page.click('#phone-hangup')
    await page.waitForSelector(`${PHONE}:not([data-phone-state="in-call"])`, { timeout: 10_000 })

    const record = await CallRecord.query()
      .where('user_id', user.id)
      .orderBy('id', 'desc')
      .firstOrFail()
    assert.equal(record.direction, 'echo_test')
    assert.equal(record.calleeNumber, '*43')
    assert.isNull(record.carrierName)
    assert.isNotNull(record.answeredAt)
    assert.isNotNull(record.endedAt)
    assert.equal(record.hungUpBy, 'caller')
  }).timeout(120_000)
})
