import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import type { Assert } from '@japa/assert'
import type { Page } from 'playwright-core'
import type User from '#accounts/models/user'
import CallRecord from '#calls/models/call_record'
import InternalLineService from '#calls/internal/internal_line_service'
import SipDeviceService from '#calls/services/sip_device_service'
import { launchPhoneBrowser } from '#tests/support/chromium'
import { PHONE, inState, openPhone, rtp, webPhoneGroup } from '#tests/browser/phone/phone_pages'
import { uniqueCompany, uniqueUser } from '#tests/support/browser'
import { freePort, startSipp } from '#tests/support/sip_peers'
import { alawToneWav, captureRtp } from '#tests/support/rtp_capture'
import { until } from '#tests/support/server_process'
import { loopbackCarriers, ourNumber } from '#tests/support/calls'
import { registeredDesk } from '#tests/e2e/calls/desk_phones'
import { expectExit, sipUdpPort } from '#tests/e2e/calls/b2bua_races_peers'

/**
 * Consultation (attended) transfer from the web phone: a customer calls Bob's number through the
 * carrier (sipp, sending its tone throughout); Bob answers in Chromium, types 24 and presses
 * "Rückfrage": the customer goes on hold (re-INVITE towards the carrier) while Bob's phone calls
 * Carol's desk phone (sipp). "Verbinden" refers the customer to Carol (REFER with Replaces), the
 * server ends both of Bob's calls and the customer talks with Carol; "Zurück" ends the call with
 * Carol and takes the customer off hold again.
 */

/** What the dock shows, for failure messages. */
function shown(page: Page) {
  return page.evaluate(() => {
    const root = (globalThis as any).document.querySelector('#web-phone')
    const status = (globalThis as any).document.querySelector('#phone-transfer-status')
    return JSON.stringify({
      ...root?.dataset,
      texts: undefined,
      transferStatus: status?.textContent,
    })
  })
}

test.group('Web phone: consultation transfer', (group) => {
  const { created, cleanups, userIds } = webPhoneGroup(group)

  /**
   * Bob (extension 23, with a number of his own at the carrier) in Chromium and Carol (24); the
   * carrier calls Bob's number with `scenario` (sending its tone throughout) and Bob answers.
   */
  async function customerCallsBob(scenario: string) {
    const company = await uniqueCompany(created)
    const admin = await uniqueUser(created, 'admin', company)
    const bob = await uniqueUser(created, 'member', company)
    const carol = await uniqueUser(created, 'member', company)
    userIds.push(bob.id, carol.id)
    const lines = new InternalLineService()
    await lines.setExtension(company, bob.id, '23', { actor: admin, ip: null })
    await lines.setExtension(company, carol.id, '24', { actor: admin, ip: null })
    const number = `+4930${String(Date.now()).slice(-8)}`
    await ourNumber(number, 'loop', company, bob.id)
    // Inbound carriers are recognised by their address (127.0.0.1), not their port.
    cleanups.push(await loopbackCarriers({ loop: await freePort('udp') }))

    const browser = await launchPhoneBrowser()
    cleanups.push(() => browser.close())
    const page = await openPhone(browser, bob.email)

    const caller = await startSipp({
      scenario,
      transport: 'u1',
      target: `127.0.0.1:${await sipUdpPort()}`,
      timeoutSeconds: 90,
      traceMessages: true,
      keys: { callee: number },
      // sipp loads its audio (rtp_stream) from its working directory when it starts.
      files: { 'tone.wav': alawToneWav() },
    })
    cleanups.push(caller.stop)

    await inState(page, 'incoming')
    await page.click('#phone-accept')
    await inState(page, 'in-call')
    return { number, browser, page, caller, carol }
  }

  /** Bob types `target` and presses "Rückfrage". */
  async function consult(page: Page, target: string) {
    await page.fill('#phone-number', target)
    await page.click('#phone-consult')
  }

  /** Carol's desk phone (sipp) answers once and plays its pcap; her media port is captured. */
  async function colleagueDesk(carol: User) {
    const { device, password } = await new SipDeviceService().create(carol, 'Desk phone')
    const media = await freePort('udp', '127.0.0.3')
    const capture = await captureRtp(media)
    // Stopped by the test, or by the teardown when the test failed before.
    let running = true
    const audio = {
      stop: () => {
        running = false
        return capture.stop()
      },
    }
    cleanups.push(() => running && audio.stop())
    const desk = await registeredDesk(
      { user: carol, username: device.sipUsername, password, deviceId: device.id },
      'internal_device_answer.xml',
      media,
      { timeoutSeconds: 90 }
    )
    cleanups.push(desk.sipp.stop, desk.unregister)
    return { sipp: desk.sipp, media, audio }
  }

  async function consultationIs(page: Page, consultation: string) {
    const selector =
      consultation === 'connected'
        ? `${PHONE}[data-phone-state="in-call"][data-phone-parked="held"][data-phone-consultation="connected"]`
        : `${PHONE}[data-phone-consultation="${consultation}"]`
    try {
      await page.waitForSelector(selector, { timeout: 15_000 })
    } catch (error) {
      throw new Error(`no consultation "${consultation}": ${await shown(page)}`, { cause: error })
    }
  }

  /** The server confirmed the transfer (NOTIFY 200) and hung up both of Bob's calls. */
  async function transferDone(page: Page, assert: Assert) {
    await page.waitForSelector(
      `${PHONE}[data-phone-transfer="done"], ${PHONE}[data-phone-transfer="failed"]`,
      { timeout: 15_000 }
    )
    assert.equal(
      await page.getAttribute(PHONE, 'data-phone-transfer'),
      'done',
      `the transfer failed: ${await shown(page)}`
    )
    await page.waitForFunction(
      () => {
        const snapshot = (globalThis as any).__phone?.snapshot
        return snapshot && snapshot.call === null && !snapshot.parked
      },
      undefined,
      { timeout: 15_000 }
    )
  }

  /** Bob talks with the customer again: no call parked, no consultation, not on hold. */
  async function resumed(page: Page, assert: Assert) {
    try {
      await page.waitForSelector(
        `${PHONE}[data-phone-state="in-call"][data-phone-parked=""][data-phone-consultation=""]`,
        { timeout: 15_000 }
      )
    } catch (error) {
      throw new Error(`the customer was not resumed: ${await shown(page)}`, { cause: error })
    }
    assert.equal(await page.getAttribute('#phone-hold', 'aria-pressed'), 'false')
    assert.isFalse(await page.isVisible('#phone-consult-connect'))
    assert.isFalse(await page.isVisible('#phone-consult-back'))
  }

  /** The customer's tone reaches Bob's browser on the first call's connection. */
  async function customerHeard(page: Page) {
    const start = await rtp(page)
    await until('the customer heard again', 15_000, async () =>
      (await rtp(page)).received >= start.received + 50 ? true : null
    )
  }

  function callRecord(number: string) {
    return until('the customer’s CDR closed', 10_000, () =>
      CallRecord.query().where('callee_number', number).whereNotNull('ended_at').first()
    )
  }

  test('Verbinden: the customer is referred to Carol, both of Bob’s calls end, Carol hears the customer, the CDR names the transfer', async ({
    assert,
  }) => {
    const { number, page, caller, carol } = await customerCallsBob(
      'carrier_calls_in_transferred.xml'
    )
    const colleague = await colleagueDesk(carol)
    // An empty number field: the consultation asks for a target next to the field.
    await page.click('#phone-consult')
    assert.isTrue(await page.isVisible('#phone-number-error'))
    assert.equal(await page.getAttribute(PHONE, 'data-phone-parked'), '')
    await consult(page, '24')
    // The customer waits on hold, Bob talks with Carol.
    await consultationIs(page, 'connected')
    assert.isTrue(await page.isVisible('#phone-consult-back'))
    assert.isFalse(await page.isVisible('#phone-transfer'))
    await page.click('#phone-consult-connect')

    await transferDone(page, assert)
    const bobGone = Date.now() / 1000
    assert.notEqual(await page.getAttribute(PHONE, 'data-phone-state'), 'in-call')
    assert.include(await page.textContent('#phone-transfer-status'), 'Weitergeleitet')

    // The customer talks on with Carol, then hangs up; the server ends Carol's call.
    await expectExit(caller, 0, assert)
    await expectExit(colleague.sipp, 0, assert)
    const carolHeard = (await colleague.audio.stop()).filter(
      (packet) =>
        packet.toPort === colleague.media && packet.payloadType === 8 && packet.time > bobGone
    ).length
    assert.isAtLeast(carolHeard, 100, `Carol heard ${carolHeard} packets after Bob left`)

    const record = await callRecord(number)
    assert.equal(record.direction, 'inbound')
    assert.equal(record.forwardedTo, '24')
    assert.equal(record.forwardReason, 'transfer')
    assert.isNotNull(record.answeredAt)
  }).timeout(150_000)

  test('Zurück: the call with Carol ends, the customer is taken off hold and heard again', async ({
    assert,
  }) => {
    const { number, page, caller, carol } = await customerCallsBob(
      'carrier_calls_in_held_resumed.xml'
    )
    const colleague = await colleagueDesk(carol)
    await consult(page, '24')
    await consultationIs(page, 'connected')
    assert.isTrue(await page.isVisible('#phone-consult-connect'))
    await page.click('#phone-consult-back')

    await resumed(page, assert)
    // Carol's phone got Bob's BYE.
    await expectExit(colleague.sipp, 0, assert)
    await customerHeard(page)

    await page.click('#phone-hangup')
    await expectExit(caller, 0, assert)
    await colleague.audio.stop()
    const record = await callRecord(number)
    assert.isNull(record.forwardReason)
    assert.isNotNull(record.answeredAt)
  }).timeout(150_000)

  test('a consultation call that fails leaves the customer on hold: Bob consults the next colleague, then goes back', async ({
    assert,
  }) => {
    const { page, caller, carol } = await customerCallsBob('carrier_calls_in_held_resumed.xml')
    const colleague = await colleagueDesk(carol)
    // Nobody has extension 29.
    await consult(page, '29')
    await consultationIs(page, 'ended')
    await page.waitForSelector('#phone-outcome', { state: 'visible', timeout: 5000 })
    const outcome = (await page.getAttribute(PHONE, 'data-phone-outcome')) ?? ''
    assert.notInclude(['', 'ended'], outcome, 'the failure is shown')
    assert.equal(await page.getAttribute(PHONE, 'data-phone-parked'), 'held')
    assert.isFalse(await page.isVisible('#phone-consult-connect'))
    assert.isTrue(await page.isVisible('#phone-consult-back'))

    await consult(page, '24')
    await consultationIs(page, 'connected')
    await page.click('#phone-consult-back')
    await resumed(page, assert)
    await expectExit(colleague.sipp, 0, assert)
    await customerHeard(page)
    await page.click('#phone-hangup')
    await expectExit(caller, 0, assert)
    await colleague.audio.stop()
  }).timeout(150_000)

  test('the customer hangs up while waiting on hold: the call with Carol goes on, nothing left to connect', async ({
    assert,
  }) => {
    const { number, page, caller, carol } = await customerCallsBob(
      'carrier_calls_in_hangs_up_held.xml'
    )
    const colleague = await colleagueDesk(carol)
    await consult(page, '24')
    await expectExit(caller, 0, assert)
    try {
      await page.waitForSelector(
        `${PHONE}[data-phone-state="in-call"][data-phone-parked=""][data-phone-consultation=""]`,
        { timeout: 15_000 }
      )
    } catch (error) {
      throw new Error(`the call with Carol is not alone: ${await shown(page)}`, { cause: error })
    }
    assert.isFalse(await page.isVisible('#phone-consult-connect'))
    assert.isFalse(await page.isVisible('#phone-consult-back'))
    assert.isFalse(await page.isVisible('#phone-parked'))
    assert.equal(
      await page.evaluate(() => (globalThis as any).__phone?.snapshot.remote?.number),
      '24'
    )

    await page.click('#phone-hangup')
    await expectExit(colleague.sipp, 0, assert)
    await colleague.audio.stop()
    const record = await callRecord(number)
    assert.isNull(record.forwardReason)
    assert.equal(record.hungUpBy, 'caller')
  }).timeout(150_000)

  test('from another tab: Rückfrage and Verbinden are sent to the tab that holds the phone', async ({
    assert,
  }) => {
    const { page, caller, carol } = await customerCallsBob('carrier_calls_in_transferred.xml')
    const colleague = await colleagueDesk(carol)
    const other = await page.context().newPage()
    await other.goto('/app/calls')
    await other.waitForSelector(
      `${PHONE}[data-phone-role="follower"][data-phone-state="in-call"]`,
      {
        timeout: 15_000,
      }
    )
    await consult(other, '24')
    await consultationIs(other, 'connected')
    await consultationIs(page, 'connected')
    await other.click('#phone-consult-connect')
    await transferDone(page, assert)
    await other.waitForSelector(`${PHONE}[data-phone-transfer="done"]`, { timeout: 5000 })
    await expectExit(caller, 0, assert)
    await expectExit(colleague.sipp, 0, assert)
    await colleague.audio.stop()
  }).timeout(150_000)

  test('closing the tab during a consultation ends both calls; with the customer waiting and no other call it asks first', async ({
    assert,
  }) => {
    const { page, caller, carol } = await customerCallsBob('carrier_calls_in_held_until_bye.xml')
    const colleague = await colleagueDesk(carol)
    await consult(page, '29')
    await consultationIs(page, 'ended')
    const asked = new Promise<string>((resolve) =>
      page.once('dialog', (dialog) => {
        resolve(dialog.type())
        void dialog.dismiss()
      })
    )
    const closed = page.waitForEvent('close').then(() => 'closed without asking')
    await page.close({ runBeforeUnload: true })
    assert.equal(await Promise.race([asked, closed]), 'beforeunload')
    assert.equal(await page.getAttribute(PHONE, 'data-phone-parked'), 'held')

    await consult(page, '24')
    await consultationIs(page, 'connected')
    await page.close()
    // The server ends the calls of the closed socket: the customer's and Carol's phones get BYE.
    await expectExit(caller, 0, assert)
    await expectExit(colleague.sipp, 0, assert)
    await colleague.audio.stop()
    const b2bua = await app.container.make('calls.b2bua')
    await until('no call left', 5000, async () => b2bua.calls.length === 0)
  }).timeout(150_000)

  test('switching to the customer during the consultation and connecting from there: Carol’s web phone gets the customer', async ({
    assert,
  }) => {
    const { number, browser, page, caller, carol } = await customerCallsBob(
      'carrier_calls_in_switched_transferred.xml'
    )
    const carolPage = await openPhone(browser, carol.email)
    await consult(page, '24')
    await inState(carolPage, 'incoming')
    await carolPage.click('#phone-accept')
    await consultationIs(page, 'connected')

    // The customer comes back, Carol waits on hold.
    await page.click('#phone-switch')
    await page.waitForFunction(
      () => {
        const snapshot = (globalThis as any).__phone?.snapshot
        return snapshot?.call === 'in-call' && snapshot.parked?.number === '24'
      },
      undefined,
      { timeout: 15_000 }
    )
    await consultationIs(page, 'connected')
    await page.click('#phone-consult-connect')

    await transferDone(page, assert)
    const before = await rtp(carolPage)
    await until('Carol hears the customer', 15_000, async () => {
      const now = await rtp(carolPage)
      return now.received >= before.received + 50 && /pcm[au]/i.test(now.codec) ? true : null
    })
    await expectExit(caller, 0, assert)
    await carolPage.waitForSelector(`${PHONE}:not([data-phone-state="in-call"])`, {
      timeout: 15_000,
    })

    const record = await callRecord(number)
    assert.equal(record.forwardedTo, '24')
    assert.equal(record.forwardReason, 'transfer')
  }).timeout(150_000)
})
