import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import type { Browser, Page } from 'playwright-core'
import PhoneNumber from '#calls/models/phone_number'
import CallRecord from '#calls/models/call_record'
import type B2bua from '#calls/b2bua/b2bua'
import { buildB2bua } from '#calls/b2bua/b2bua_factory'
import RtpengineMediaEngine from '#media/rtpengine/rtpengine_media_engine'
import { launchPhoneBrowser } from '#tests/support/chromium'
import { Created, loginThroughForm, uniqueCompany, uniqueUser } from '#tests/support/browser'
import { freePort, startSipp } from '#tests/support/sip_peers'
import { forgetPhoneUsers, loopbackCarriers } from '#tests/support/calls'
import { alawToneWav, captureRtp, packetRate } from '#tests/support/rtp_capture'
import { startRtpengine, type RtpengineProcess } from '#tests/support/rtpengine'

/**
 * The web phone through our B2BUA with MEDIA_ENGINE=rtpengine: Debian's Chromium with a fake
 * microphone, a B2BUA of the test's own on the rtpengine engine, Debian's rtpengine (user space,
 * loopback, ng on 2248, media 39000-39999) doing ICE and DTLS-SRTP with the browser, and sipp as
 * the carrier. tshark on sipp's media port counts what arrives there and what sipp sends.
 */

const PHONE = '#web-phone'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitUntil(condition: () => boolean, ms = 5000) {
  for (const deadline = Date.now() + ms; !condition(); await sleep(50)) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
  }
}

async function inState(page: Page, state: string, timeout = 15_000) {
  await page.waitForSelector(`${PHONE}[data-phone-state="${state}"]`, { timeout })
}

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

async function receivedPackets(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const connection = (globalThis as any).__phone?.peerConnection
    if (!connection) return -1
    let received = 0
    const stats = await connection.getStats()
    stats.forEach((report: any) => {
      if (report.type === 'inbound-rtp' && report.kind === 'audio')
        received = report.packetsReceived
    })
    return received
  })
}

test.group(
  'Web phone calls through the B2BUA on rtpengine (Chromium, rtpengine, sipp)',
  (group) => {
    const created = new Created()
    const cleanups: Array<() => unknown> = []
    const userIds: number[] = []
    let rtpengine: RtpengineProcess
    let engine: RtpengineMediaEngine
    let b2bua: B2bua
    group.setup(async () => {
      rtpengine = await startRtpengine({ ngPort: 2248, ports: [39000, 39999] })
      engine = new RtpengineMediaEngine({ ng: rtpengine.ng, innerAddress: '127.0.0.1' })
      b2bua = await buildB2bua(app.container, { media: engine })
      b2bua.start()
      return async () => {
        await engine.close()
        await rtpengine.stop()
        // The other call tests use the container's B2BUA
        ;(await app.container.make('calls.b2bua')).start()
      }
    })
    group.each.teardown(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
      await forgetPhoneUsers(userIds)
      await created.cleanup()
    })

    test('outbound: audio both ways and DTMF under the negotiated payload type, hold and resume, hang-up deletes both rtpengine calls', async ({
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
      const sipp = await startSipp({
        scenario: 'carrier_rtpengine.xml',
        transport: 'u1',
        timeoutSeconds: 60,
        traceMessages: true,
        extraArgs: ['-mp', String(mediaPort)],
        files: { 'tone.wav': alawToneWav() },
      })
      cleanups.push(sipp.stop, await loopbackCarriers({ loop: sipp.port }))
      const browser: Browser = await launchPhoneBrowser()
      cleanups.push(() => browser.close())
      const page = await openPhone(browser, user.email)

      await page.fill('#phone-number', '+49 30 1234567')
      await page.click('#phone-call')
      await inState(page, 'in-call').catch(async (error) => {
        // What went wrong: the CDR's cause, sipp's errors, rtpengine's last words
        sipp.kill()
        const cdr = await CallRecord.query().orderBy('id', 'desc').first()
        throw new Error(
          `no call: ${JSON.stringify(cdr?.serialize())}\n${sipp.describe(await sipp.done)}\n${rtpengine.log().slice(-2000)}`,
          { cause: error }
        )
      })
      // Both legs are calls in rtpengine while the call runs
      assert.lengthOf((await rtpengine.control.command('list')).calls as string[], 2)
      assert.equal(engine.openLegs, 2)

      await sleep(1000)
      const early = await receivedPackets(page)
      await sleep(2000)
      assert.isAtLeast((await receivedPackets(page)) - early, 90, 'sipp’s tone reaches the browser')

      for (const key of ['1', '5', '#']) {
        await page.click(`#phone-dialpad button[data-key="${key}"]`)
        await sleep(400)
      }
      await sleep(3500)
      await page.click('#phone-hold')
      await inState(page, 'on-hold')
      await page.click('#phone-hold')
      await inState(page, 'in-call')
      const resumedAt = Date.now() / 1000
      await sleep(2500)
      await page.click('#phone-hangup')
      await page.waitForSelector(`${PHONE}:not([data-phone-state="in-call"])`, { timeout: 10_000 })

      const outcome = await sipp.done
      assert.equal(outcome.code, 0, `${sipp.describe(outcome)}\n${sipp.messages().slice(-5000)}`)
      const packets = await capture.stop()
      const toSipp = packets.filter((packet) => packet.toPort === mediaPort)
      const fromSipp = packets.filter((packet) => packet.fromPort === mediaPort)
      // Over 5 s (before the hold): Chromium's capture thread starved for a moment on a loaded
      // machine made a 3 s window read 43/s (CI, load 11); a relay losing packets shows in any window
      assert.isAtLeast(packetRate(toSipp, 1, 5), 45, 'packets per second from the browser at sipp')
      assert.isAtLeast(
        packetRate(fromSipp.filter((packet) => packet.payloadType === 8)),
        45,
        'packets per second from sipp towards the browser'
      )
      const afterResume = toSipp.filter(
        (packet) => packet.time >= resumedAt + 0.5 && packet.time < resumedAt + 2
      )
      assert.isAtLeast(
        afterResume.length / 1.5,
        45,
        'the browser reaches sipp after hold and resume'
      )

      // The telephone-event number we offered sipp (the browser's own) is the one on the wire
      const offered = /a=rtpmap:(\d+) telephone-event\/8000/.exec(sipp.messages())
      assert.isNotNull(offered, 'telephone-event/8000 offered to the carrier')
      const eventPt = Number(offered![1])
      const events = toSipp.filter((packet) => packet.payloadType === eventPt)
      // RFC 4733: event, E bit, duration (tshark decodes events only under its own default number)
      const ends = events.filter((packet) => (packet.payload[1] & 0x80) !== 0)
      assert.deepEqual([...new Set(ends.map((packet) => packet.payload[0]))], [1, 5, 11])
      assert.deepEqual(
        [...new Set(toSipp.map((packet) => packet.payloadType))].sort(),
        [8, eventPt].sort(),
        'only PCMA and the negotiated telephone-event reach sipp'
      )

      const record = await CallRecord.query()
        .where('user_id', user.id)
        .orderBy('id', 'desc')
        .firstOrFail()
      assert.isNotNull(record.answeredAt)
      assert.isNotNull(record.endedAt)
      assert.equal(record.disconnectCause, 'answered_normal')
      assert.lengthOf(b2bua.calls, 0)
      // Both rtpengine calls were deleted when the call ended
      assert.equal(engine.openLegs, 0)
      assert.deepEqual((await rtpengine.control.command('list')).calls, [])
    }).timeout(120_000)

    test('echo test: *43 is answered by our server, rtpengine sends the browser its own audio back, no carrier', async ({
      assert,
    }) => {
      const company = await uniqueCompany(created)
      const user = await uniqueUser(created, 'member', company)
      userIds.push(user.id)
      cleanups.push(await loopbackCarriers({}))
      const browser = await launchPhoneBrowser()
      cleanups.push(() => browser.close())
      const page = await openPhone(browser, user.email)

      await page.fill('#phone-number', '*43')
      await page.click('#phone-call')
      await inState(page, 'in-call')
      assert.lengthOf((await rtpengine.control.command('list')).calls as string[], 1)
      await sleep(1000)
      const early = await receivedPackets(page)
      await sleep(2000)
      assert.isAtLeast((await receivedPackets(page)) - early, 90, 'the browser hears itself')
      await page.click('#phone-hangup')
      await page.waitForSelector(`${PHONE}:not([data-phone-state="in-call"])`, { timeout: 10_000 })

      const record = await CallRecord.query()
        .where('user_id', user.id)
        .orderBy('id', 'desc')
        .firstOrFail()
      assert.equal(record.direction, 'echo_test')
      assert.isNotNull(record.answeredAt)
      assert.isNotNull(record.endedAt)
      await waitUntil(() => engine.openLegs === 0)
      assert.deepEqual((await rtpengine.control.command('list')).calls, [])
    }).timeout(60_000)
  }
)
