import { test } from '@japa/runner'
import { webPhoneGroup } from '#tests/browser/phone/phone_pages'
import { until } from '#tests/support/server_process'
import app from '@adonisjs/core/services/app'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import PhoneNumber from '#calls/models/phone_number'
import CallRecord from '#calls/models/call_record'
import { launchPhoneBrowser } from '#tests/support/chromium'
import { loginThroughForm, uniqueCompany, uniqueUser } from '#tests/support/browser'
import { freePort, startSipp, type SippProcess } from '#tests/support/sip_peers'
import { loopbackCarriers } from '#tests/support/calls'
import { alawToneWav, captureRtp, packetRate, type RtpPacket } from '#tests/support/rtp_capture'
import { userSubject } from '#calls/signalling/sip_subject'

/**
 * The docked phone survives navigation: it sits beside every customer page, which load in place
 * around it (resources/js/shell/in_place_navigation.ts). Chromium with a fake microphone, our
 * B2BUA and media relay, sipp as the carrier; audio is counted by tshark at sipp's media port.
 */

const PHONE = '#web-phone'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function phoneContext(browser: Browser) {
  return browser.newContext({
    baseURL: `http://${process.env.HOST}:${process.env.PORT}`,
    locale: 'de-DE',
    permissions: ['microphone'],
  })
}

async function openPhone(
  context: BrowserContext,
  email: string,
  path = '/app/phone'
): Promise<Page> {
  const page = await context.newPage()
  await loginThroughForm(page, email)
  await page.goto(path)
  await page.waitForSelector(`${PHONE}[data-phone-registration="registered"]`, { timeout: 15_000 })
  return page
}

async function inState(page: Page, state: string, timeout = 15_000) {
  try {
    await page.waitForSelector(`${PHONE}[data-phone-state="${state}"]`, { timeout })
  } catch (error) {
    const seen = await page.evaluate(() => {
      const root = (globalThis as any).document.querySelector('#web-phone')
      return JSON.stringify({
        ...root?.dataset,
        texts: undefined,
        url: (globalThis as any).location.href,
      })
    })
    throw new Error(`the phone did not reach "${state}": ${seen}`, { cause: error })
  }
}

/** Follows a link of the top navigation (or another) and waits for the page's heading: no full page load. */
async function navigate(
  page: Page,
  path: string,
  heading: string,
  link = `.topnav a[href="${path}"]`
) {
  await page.click(link)
  await page.waitForFunction(
    ([expected, text]) =>
      (globalThis as any).location.pathname === expected &&
      (globalThis as any).document.querySelector('#page-main h1')?.textContent?.includes(text),
    [path, heading] as const,
    { timeout: 10_000 }
  )
}

async function carrier(
  scenario: string,
  mediaPort: number,
  keys: Record<string, string> = {},
  target?: string
): Promise<SippProcess> {
  return startSipp({
    scenario,
    transport: 'u1',
    target,
    timeoutSeconds: 90,
    traceMessages: true,
    keys,
    extraArgs: ['-mp', String(mediaPort)],
    files: { 'tone.wav': alawToneWav() },
  })
}

/** The browser's own RTP counters (getStats on the holder's RTCPeerConnection). */
async function received(page: Page) {
  return page.evaluate(async () => {
    const connection = (globalThis as any).__phone?.peerConnection
    let count = -1
    ;(await connection?.getStats())?.forEach((report: any) => {
      if (report.type === 'inbound-rtp' && report.kind === 'audio') count = report.packetsReceived
    })
    return count
  })
}

async function bindingsOf(userId: number) {
  const stack = await app.container.make('sip.stack')
  return stack.registrar.registrar.lookupSubject(userSubject(userId))
}

function audio(packets: RtpPacket[]) {
  return packets.filter((packet) => packet.payloadType === 8)
}

/** Resolves with sipp's outcome, or null when it is still running after `ms`. */
function doneWithin(sipp: SippProcess, ms: number) {
  return Promise.race([sipp.done, sleep(ms).then(() => null)])
}

test.group('Web phone survives navigation (Chromium, werift, sipp)', (group) => {
  const { created, cleanups, userIds } = webPhoneGroup(group)

  test('a call goes on with audio both ways while the user opens five other pages, sends a form and goes back; closing the tab ends it at once', async ({
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
    const sipp = await carrier('carrier_until_bye.xml', mediaPort)
    cleanups.push(sipp.stop, await loopbackCarriers({ loop: sipp.port }))
    const browser = await launchPhoneBrowser()
    cleanups.push(() => browser.close())
    const page = await openPhone(await phoneContext(browser), user.email)
    // Survives only if the document is never reloaded.
    await page.evaluate(() => ((globalThis as any).__sameDocument = true))

    await page.fill('#phone-number', '+49 30 1234567')
    await page.click('#phone-call')
    await inState(page, 'in-call')

    await navigate(page, '/app/calls', 'Anrufliste')
    await inState(page, 'in-call', 2000)
    await navigate(page, '/app/devices', 'Eigene SIP-Telefone')
    await inState(page, 'in-call', 2000)
    // The account's security page has a layout of its own but is in the customer area: in place too.
    await navigate(page, '/account/security', 'Sicherheit')
    await inState(page, 'in-call', 2000)
    assert.isTrue(
      await page.locator('#web-phone').isVisible(),
      'the phone stays beside the security page'
    )
    // The logo leads to the overview, in place as well
    await navigate(page, '/app', user.fullName, 'header a.brand')
    await inState(page, 'in-call', 2000)
    await navigate(page, '/app/phone/settings', 'Telefon-Einstellungen')
    await inState(page, 'in-call', 2000)
    // A form is sent in place too (CSRF field, method spoofing, redirect with a flash message).
    await page.check('#field-clir_default')
    await page.click('#phone-settings-form button[type="submit"]')
    await page.waitForSelector('#page-main .flash.notice', { timeout: 10_000 })
    await user.refresh()
    assert.isTrue(Boolean(user.clirDefault), 'the settings form was saved')
    await inState(page, 'in-call', 2000)
    await page.goBack()
    await page.goBack()
    await page.waitForFunction(
      () =>
        (globalThis as any).location.pathname === '/app' &&
        (globalThis as any).document
          .querySelector('#page-main h1')
          ?.textContent?.includes('Person '),
      undefined,
      { timeout: 10_000 }
    )
    assert.isTrue(
      await page.evaluate(() => (globalThis as any).__sameDocument === true),
      'no page was loaded in full'
    )
    await inState(page, 'in-call', 2000)

    // After the navigation: audio both ways, counted at sipp's media port.
    const capture = await captureRtp(mediaPort)
    await sleep(3000)
    const packets = await capture.stop()
    const toSipp = audio(packets.filter((packet) => packet.toPort === mediaPort))
    const fromSipp = audio(packets.filter((packet) => packet.fromPort === mediaPort))
    assert.isAtLeast(
      packetRate(toSipp, 0.5, 2),
      45,
      'audio packets per second from the browser at sipp'
    )
    assert.isAtLeast(
      packetRate(fromSipp, 0.5, 2),
      45,
      'audio packets per second from sipp towards the browser'
    )
    const b2bua = await app.container.make('calls.b2bua')
    assert.lengthOf(b2bua.calls, 1)
    assert.isAbove(
      b2bua.calls[0].session.relayed.bToA,
      100,
      'the carrier is relayed to the browser'
    )

    // Closing the tab ends the call at once: the carrier gets BYE well before any grace period.
    await page.close()
    const outcome = await doneWithin(sipp, 4000)
    assert.isNotNull(outcome, 'the carrier got no BYE within 4 s of the tab closing')
    assert.equal(outcome!.code, 0, `${sipp.describe(outcome!)}\n${sipp.messages().slice(-3000)}`)
    const record = await CallRecord.query()
      .where('user_id', user.id)
      .orderBy('id', 'desc')
      .firstOrFail()
    const deadline = Date.now() + 5000
    while (!record.endedAt && Date.now() < deadline) {
      await sleep(100)
      await record.refresh()
    }
    assert.isNotNull(record.answeredAt)
    assert.isNotNull(record.endedAt)
    assert.equal(record.disconnectCause, 'answered_normal')
    assert.equal(record.hungUpBy, 'caller')
    assert.equal(record.carrierName, 'loop')
    assert.lengthOf(b2bua.calls, 0)
  }).timeout(120_000)

  test('an incoming call rings on the call history page and is answered there', async ({
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'owner', company)
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
    const page = await openPhone(await phoneContext(browser), user.email, '/app/calls')
    assert.equal(await page.textContent('#page-main h1'), 'Anrufliste')

    const stack = await app.container.make('sip.stack')
    const sipPort = stack.layer.localAddress('udp')!.port
    cleanups.push(await loopbackCarriers({ loop: await freePort('udp') }))
    const mediaPort = await freePort('udp')
    const sipp = await carrier(
      'carrier_calls_in.xml',
      mediaPort,
      { callee: ours },
      `127.0.0.1:${sipPort}`
    )
    cleanups.push(sipp.stop)

    await inState(page, 'incoming')
    assert.include(
      await page.textContent('#phone-incoming-caller'),
      '+49 89 123456',
      'the caller shown grouped'
    )
    assert.equal(new URL(page.url()).pathname, '/app/calls')
    await page.click('#phone-accept')
    await inState(page, 'in-call')
    // The carrier talks for 5 s and hangs up.
    await page.waitForSelector(`${PHONE}:not([data-phone-state="in-call"])`, { timeout: 15_000 })
    const outcome = await sipp.done
    assert.equal(outcome.code, 0, `${sipp.describe(outcome)}\n${sipp.messages().slice(-3000)}`)
    const record = await CallRecord.query()
      .where('callee_number', ours)
      .orderBy('id', 'desc')
      .firstOrFail()
    assert.equal(record.direction, 'inbound')
    assert.isNotNull(record.answeredAt)
  }).timeout(120_000)

  test('several tabs, one phone: one registration, the call rings in every tab, is answered in another tab, survives closing that tab; the holder hands over', async ({
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
    const context = await phoneContext(browser)
    const holder = await openPhone(context, user.email)
    const other = await context.newPage()
    await other.goto('/app/calls')
    await other.waitForSelector(`${PHONE}[data-phone-registration="registered"]`, {
      timeout: 15_000,
    })
    assert.equal(await holder.getAttribute(PHONE, 'data-phone-role'), 'holder')
    assert.equal(await other.getAttribute(PHONE, 'data-phone-role'), 'follower')
    assert.isTrue(await other.locator('#phone-other-tab').isVisible())
    assert.lengthOf(await bindingsOf(user.id), 1, 'one registration per browser')

    const stack = await app.container.make('sip.stack')
    const sipPort = stack.layer.localAddress('udp')!.port
    cleanups.push(await loopbackCarriers({ loop: await freePort('udp') }))
    const sipp = await carrier(
      'carrier_calls_in_until_bye.xml',
      await freePort('udp'),
      { callee: ours },
      `127.0.0.1:${sipPort}`
    )
    cleanups.push(sipp.stop)

    await inState(holder, 'incoming')
    await inState(other, 'incoming')
    await other.click('#phone-accept')
    await inState(holder, 'in-call')
    await inState(other, 'in-call')
    await sleep(1500)
    assert.isAbove(await received(holder), 40, 'the audio plays in the holding tab')

    // Closing the other tab leaves the call alone.
    await other.close()
    await sleep(1000)
    await inState(holder, 'in-call', 2000)
    const b2bua = await app.container.make('calls.b2bua')
    assert.lengthOf(b2bua.calls, 1)
    assert.isNull(await doneWithin(sipp, 0))

    // Closing the holding tab asks first; staying keeps the call.
    const asked = new Promise<string>((resolve) =>
      holder.once('dialog', (dialog) => {
        resolve(dialog.type())
        void dialog.dismiss()
      })
    )
    await holder.close({ runBeforeUnload: true })
    assert.equal(await asked, 'beforeunload')
    await inState(holder, 'in-call', 2000)

    // A new tab waits; when the holder is closed, the call ends at once and the new tab takes over.
    const next = await context.newPage()
    await next.goto('/app/devices')
    await next.waitForSelector(`${PHONE}[data-phone-role="follower"]`, { timeout: 10_000 })
    await holder.close()
    const outcome = await doneWithin(sipp, 4000)
    assert.isNotNull(outcome, 'the carrier got no BYE within 4 s of the tab closing')
    assert.equal(outcome!.code, 0, `${sipp.describe(outcome!)}\n${sipp.messages().slice(-3000)}`)
    await next.waitForSelector(
      `${PHONE}[data-phone-role="holder"][data-phone-registration="registered"]`,
      { timeout: 15_000 }
    )
    const bindings = await bindingsOf(user.id)
    assert.lengthOf(bindings, 1, 'the new holder registered, the old registration is gone')
    const record = await CallRecord.query()
      .where('callee_number', ours)
      .orderBy('id', 'desc')
      .firstOrFail()
    assert.equal(record.direction, 'inbound')
    assert.isNotNull(record.answeredAt)
    assert.isNotNull(record.endedAt)
    assert.equal(record.hungUpBy, 'callee')
  }).timeout(120_000)

  test('the server ends a call at once when its web phone socket closes cleanly, an echo call too', async ({
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'member', company)
    userIds.push(user.id)
    const browser = await launchPhoneBrowser()
    cleanups.push(() => browser.close())
    const page = await openPhone(await phoneContext(browser), user.email)
    const b2bua = await app.container.make('calls.b2bua')

    // Closed with a close frame and no BYE (sip.js cannot send one once its socket is gone).
    const sipp = await carrier('carrier_until_bye.xml', await freePort('udp'))
    cleanups.push(sipp.stop, await loopbackCarriers({ loop: sipp.port }))
    await page.fill('#phone-number', '+49 30 1234567')
    await page.click('#phone-call')
    await inState(page, 'in-call')
    await page.evaluate(() =>
      (globalThis as any).__phone.userAgent.transport.ws.close(1000, 'closed')
    )
    const closed = await doneWithin(sipp, 4000)
    assert.isNotNull(closed, 'the carrier got no BYE within 4 s of the clean close')
    assert.equal(closed!.code, 0, `${sipp.describe(closed!)}\n${sipp.messages().slice(-3000)}`)
    const record = await CallRecord.query()
      .where('user_id', user.id)
      .orderBy('id', 'desc')
      .firstOrFail()
    assert.equal(record.disconnectCause, 'answered_normal')
    assert.equal(record.hungUpBy, 'caller')

    // The echo test has no carrier: its call used to stay "connected" on the live calls page.
    await page.waitForSelector(`${PHONE}[data-phone-registration="registered"]`, {
      timeout: 15_000,
    })
    await page.click('#phone-outcome-dismiss').catch(() => {})
    await page.fill('#phone-number', '*43')
    await page.click('#phone-call')
    await inState(page, 'in-call')
    assert.lengthOf(b2bua.calls, 1)
    await page.evaluate(() =>
      (globalThis as any).__phone.userAgent.transport.ws.close(1000, 'closed')
    )
    const echoEnded = Date.now() + 4000
    while (b2bua.calls.length > 0 && Date.now() < echoEnded) await sleep(50)
    assert.lengthOf(b2bua.calls, 0, 'the echo call ended with its socket')
    const echoRecord = await CallRecord.query()
      .where('user_id', user.id)
      .orderBy('id', 'desc')
      .firstOrFail()
    assert.equal(echoRecord.direction, 'echo_test')
    assert.isNotNull(echoRecord.endedAt)
    assert.equal(echoRecord.hungUpBy, 'caller')
  }).timeout(120_000)

  test('a dropped web phone socket: the phone comes back within the grace period and the call goes on; one that cannot come back is ended after it', async ({
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'member', company)
    userIds.push(user.id)
    const browser = await launchPhoneBrowser()
    cleanups.push(() => browser.close())
    const context = await phoneContext(browser)
    const page = await openPhone(context, user.email)
    const b2bua = await app.container.make('calls.b2bua')
    const stack = await app.container.make('sip.stack')
    /** Drops the phone's socket on the server side: no close frame reaches the B2BUA's watcher. */
    const drop = async () => {
      const [binding] = await bindingsOf(user.id)
      assert.isTrue(stack.layer.closeWebSocketConnection(binding.source.connectionId!))
      return binding.source.connectionId!
    }

    const first = await carrier('carrier_until_bye.xml', await freePort('udp'))
    cleanups.push(first.stop, await loopbackCarriers({ loop: first.port }))
    await page.fill('#phone-number', '+49 30 1234567')
    await page.click('#phone-call')
    await inState(page, 'in-call')
    const before = await drop()
    // The phone reconnects, registers again and moves the call over with an empty in-dialog INFO.
    // (The page may still say "registered" until it notices the drop: the binding on a new
    // socket is what tells it came back; failed in CI once.)
    const again = await until('the phone registered again on a new socket', 10_000, async () =>
      (await bindingsOf(user.id)).find((binding) => binding.source.connectionId !== before)
    )
    assert.notEqual(again.source.connectionId, before)
    await page.waitForSelector(`${PHONE}[data-phone-registration="registered"]`, {
      timeout: 10_000,
    })
    await sleep(6000)
    assert.isNull(await doneWithin(first, 0), 'the call outlived the grace period')
    assert.lengthOf(b2bua.calls, 1)
    await inState(page, 'in-call', 2000)
    const relayed = { ...b2bua.calls[0].session.relayed }
    await sleep(1000)
    const later = b2bua.calls[0].session.relayed
    assert.isAbove(later.aToB - relayed.aToB, 30, 'browser audio still reaches the carrier')
    assert.isAbove(later.bToA - relayed.bToA, 30, 'carrier audio still reaches the browser')
    await page.click('#phone-hangup')
    const hungUp = await doneWithin(first, 4000)
    assert.equal(
      hungUp?.code,
      0,
      hungUp ? `${first.describe(hungUp)}\n${first.messages().slice(-3000)}` : 'no BYE'
    )
    const resumed = await CallRecord.query()
      .where('user_id', user.id)
      .orderBy('id', 'desc')
      .firstOrFail()
    assert.equal(resumed.disconnectCause, 'answered_normal')
    assert.equal(resumed.hungUpBy, 'caller')

    // A phone that cannot come back (its new sockets are refused): after
    // WEBPHONE_RECONNECT_GRACE_SECONDS (5) the call ends as phone_disconnected.
    const second = await carrier('carrier_until_bye.xml', await freePort('udp'))
    cleanups.push(second.stop, await loopbackCarriers({ loop: second.port }))
    await page.click('#phone-call')
    await inState(page, 'in-call')
    await context.routeWebSocket(
      (url) => url.pathname === '/sip',
      (socket) => socket.close({ code: 1011 })
    )
    await drop()
    assert.isNull(await doneWithin(second, 1500), 'the call waits for the grace period')
    assert.lengthOf(b2bua.calls, 1)
    const dropped = await doneWithin(second, 10_000)
    assert.isNotNull(dropped, 'the carrier got no BYE after the grace period')
    assert.equal(
      dropped!.code,
      0,
      `${second.describe(dropped!)}\n${second.messages().slice(-3000)}`
    )
    const lost = await CallRecord.query()
      .where('user_id', user.id)
      .orderBy('id', 'desc')
      .firstOrFail()
    assert.equal(lost.disconnectCause, 'phone_disconnected')
    assert.equal(lost.hungUpBy, 'system')
    assert.lengthOf(b2bua.calls, 0)
    // The page says why the call ended, until dismissed.
    await page.waitForSelector(
      `${PHONE}[data-phone-state="connection-lost"] #phone-outcome[data-reason="reason.connection_lost"]`,
      { timeout: 5000 }
    )
    assert.equal(
      await page.textContent('#phone-outcome-text'),
      'Die Verbindung zum Telefonserver ist abgebrochen; das Gespräch wurde dabei beendet.'
    )
  }).timeout(120_000)
})
