import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import type { Page } from 'playwright-core'
import CallRecord from '#calls/models/call_record'
import InternalLineService from '#calls/internal/internal_line_service'
import { launchPhoneBrowser } from '#tests/support/chromium'
import { PHONE, inState, openPhone, rtp, webPhoneGroup } from '#tests/browser/phone/phone_pages'
import { uniqueCompany, uniqueUser } from '#tests/support/browser'
import { startSipp } from '#tests/support/sip_peers'
import { loopbackCarriers } from '#tests/support/calls'

/**
 * Two colleagues' web phones (Chromium with a fake microphone each) call each other by
 * extension through our B2BUA and media relay: no carrier is contacted (a sipp carrier stands by
 * and must see nothing). Then one of them turns on do not disturb in the docked phone: the
 * other's call is refused as busy and the page says why. A call ended by staff says so on both
 * phones (the server's BYE names its cause, RFC 3326).
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Waits until `page`'s colleague list shows the colleague in `state`, asking the server again
 * every 200 ms the way the page does when it becomes visible (not waiting for its 3 s rounds).
 */
async function presenceShown(page: Page, userId: number, state: string, timeout = 10_000) {
  const selector = `#phone-colleague-list li[data-user="${userId}"][data-presence="${state}"]`
  const deadline = Date.now() + timeout
  while (!(await page.$(selector))) {
    if (Date.now() > deadline) {
      const shown = await page
        .getAttribute(`#phone-colleague-list li[data-user="${userId}"]`, 'data-presence', {
          timeout: 1000,
        })
        .catch(() => 'not listed')
      throw new Error(`colleague ${userId} not shown as ${state} within ${timeout} ms (${shown})`)
    }
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await sleep(200)
  }
}

test.group('Web phone: calls inside the company (two Chromium phones)', (group) => {
  const { created, cleanups, userIds } = webPhoneGroup(group)

  test('dialling a colleague’s extension: their web phone rings, audio both ways, no carrier; staff end the call and both phones say so; do not disturb gives busy', async ({
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const admin = await uniqueUser(created, 'admin', company)
    const alice = await uniqueUser(created, 'member', company)
    const bob = await uniqueUser(created, 'member', company)
    userIds.push(alice.id, bob.id)
    const lines = new InternalLineService()
    await lines.setExtension(company, alice.id, '22', { actor: admin, ip: null })
    await lines.setExtension(company, bob.id, '23', { actor: admin, ip: null })
    await lines.setPresence(company, true, { actor: admin, ip: null })
    const carrier = await startSipp({
      scenario: 'carrier_until_bye.xml',
      transport: 'u1',
      timeoutSeconds: 120,
      traceMessages: true,
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ trunk: carrier.port }))

    const browser = await launchPhoneBrowser()
    cleanups.push(() => browser.close())
    const alicePage = await openPhone(browser, alice.email)
    const bobPage = await openPhone(browser, bob.email)
    assert.include(await alicePage.textContent('#phone-extension'), '22')
    // Presence in Alice's colleague list follows Bob live. The list asks every 3 s and whenever
    // the page becomes visible again; the test asks through the latter instead of waiting rounds.
    const bobInAlicesList = (state: string) => presenceShown(alicePage, bob.id, state)
    await bobInAlicesList('available')

    await alicePage.fill('#phone-number', '23')
    await alicePage.click('#phone-call')
    await inState(bobPage, 'incoming')
    await bobInAlicesList('ringing')
    assert.include(await bobPage.textContent('#phone-incoming-caller'), '22')
    await bobPage.click('#phone-accept')
    await inState(bobPage, 'in-call')
    await inState(alicePage, 'in-call')
    await bobInAlicesList('on_call')
    await presenceShown(bobPage, alice.id, 'on_call')

    await sleep(1000)
    const early = { alice: await rtp(alicePage), bob: await rtp(bobPage) }
    await sleep(2000)
    const later = { alice: await rtp(alicePage), bob: await rtp(bobPage) }
    const seen = JSON.stringify({ early, later })
    // 50 packets per second each way: 2 s give about 100.
    assert.isAtLeast(later.alice.received - early.alice.received, 80, seen)
    assert.isAtLeast(later.bob.received - early.bob.received, 80, seen)
    assert.isAtLeast(later.alice.sent - early.alice.sent, 80, seen)
    assert.isAtLeast(later.bob.sent - early.bob.sent, 80, seen)
    // Opus both ways: the relay passes it through unchanged between the two web phones
    assert.equal(later.alice.codec.toLowerCase(), 'audio/opus', seen)
    assert.equal(later.bob.codec.toLowerCase(), 'audio/opus', seen)

    // Staff end the call (live calls page): both phones say who ended it, until dismissed
    const running = await CallRecord.query()
      .where('user_id', alice.id)
      .orderBy('id', 'desc')
      .firstOrFail()
    const b2bua = await app.container.make('calls.b2bua')
    assert.isTrue(await b2bua.end(running.uuid))
    const cutOff = `${PHONE}[data-phone-state="cut-off"] #phone-outcome[data-reason="reason.cut_off_staff"]`
    await alicePage.waitForSelector(cutOff, { timeout: 10_000 })
    await bobPage.waitForSelector(cutOff, { timeout: 10_000 })
    assert.equal(
      await alicePage.textContent('#phone-outcome-text'),
      'Das Gespräch wurde von FluffyCall-Mitarbeitenden beendet.'
    )
    assert.equal((await bobPage.textContent('#phone-status'))?.trim(), 'Von FluffyCall beendet')
    await alicePage.click('#phone-outcome-dismiss')
    await bobPage.click('#phone-outcome-dismiss')
    const record = await CallRecord.query()
      .where('user_id', alice.id)
      .orderBy('id', 'desc')
      .firstOrFail()
    assert.equal(record.disconnectCause, 'ended_by_staff')
    assert.equal(record.direction, 'internal')
    assert.equal(record.calleeUserId, bob.id)
    assert.equal(record.calleeNumber, '23')
    assert.isNull(record.carrierName)
    assert.isNotNull(record.answeredAt)

    // Bob turns on do not disturb in his docked phone: the page says so, Alice hears busy.
    await bobPage.click('#phone-dnd')
    await bobPage.waitForSelector(`${PHONE}[data-do-not-disturb="on"]`, { timeout: 10_000 })
    assert.isTrue(await bobPage.isVisible('#phone-dnd-on'))
    await bobInAlicesList('do_not_disturb')
    // Every state Bob's phone passes through from now on.
    await bobPage.evaluate(() => {
      const root = (globalThis as any).document.querySelector('#web-phone')
      const states: string[] = ((globalThis as any).__states = [])
      new (globalThis as any).MutationObserver(() => states.push(root.dataset.phoneState)).observe(
        root,
        { attributes: true, attributeFilter: ['data-phone-state'] }
      )
    })
    // Alice calls from her colleague list this time.
    await alicePage.click(`#phone-colleague-list li[data-user="${bob.id}"] button`)
    await alicePage.waitForSelector('#phone-outcome:not([hidden])', { timeout: 15_000 })
    assert.equal(
      await alicePage.getAttribute('#phone-outcome', 'data-reason'),
      'reason.do_not_disturb'
    )
    const refused = await CallRecord.query()
      .where('user_id', alice.id)
      .orderBy('id', 'desc')
      .firstOrFail()
    assert.equal(refused.sipStatus, 486)
    assert.equal(refused.disconnectCause, 'busy')
    assert.notInclude(
      await bobPage.evaluate(() => (globalThis as any).__states as string[]),
      'incoming',
      'Bob’s phone never rang'
    )

    assert.notInclude(carrier.messages(), 'INVITE', 'the carrier saw nothing')
  }).timeout(120_000)

  test('call waiting in the web phone: a second colleague knocks during a call, is answered, the first waits on hold; switching back and forth; the first comes back when the second ends', async ({
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const admin = await uniqueUser(created, 'admin', company)
    const alice = await uniqueUser(created, 'member', company)
    const bob = await uniqueUser(created, 'member', company)
    const carol = await uniqueUser(created, 'member', company)
    userIds.push(alice.id, bob.id, carol.id)
    const lines = new InternalLineService()
    await lines.setExtension(company, alice.id, '22', { actor: admin, ip: null })
    await lines.setExtension(company, bob.id, '23', { actor: admin, ip: null })
    await lines.setExtension(company, carol.id, '24', { actor: admin, ip: null })
    cleanups.push(await loopbackCarriers({}))

    const browser = await launchPhoneBrowser()
    cleanups.push(() => browser.close())
    const alicePage = await openPhone(browser, alice.email)
    const bobPage = await openPhone(browser, bob.email)
    const carolPage = await openPhone(browser, carol.email)

    await alicePage.fill('#phone-number', '23')
    await alicePage.click('#phone-call')
    await inState(bobPage, 'incoming')
    await bobPage.click('#phone-accept')
    await inState(bobPage, 'in-call')

    // Carol calls Bob during his call: it knocks instead of being refused.
    await carolPage.fill('#phone-number', '23')
    await carolPage.click('#phone-call')
    await bobPage.waitForSelector(`${PHONE}[data-phone-waiting="knocking"]`, { timeout: 10_000 })
    assert.include(await bobPage.textContent('#phone-waiting-caller'), '24')
    assert.equal(await bobPage.getAttribute(PHONE, 'data-phone-state'), 'in-call')
    await bobPage.click('#phone-waiting-accept')
    await inState(carolPage, 'in-call')
    await bobPage.waitForSelector(`${PHONE}[data-phone-parked="held"]`, { timeout: 10_000 })
    assert.include(await bobPage.textContent('#phone-parked-caller'), '22')
    await inState(bobPage, 'in-call')
    // Bob now talks to Carol: packets flow on Carol's call in both browsers.
    const before = { bob: await rtp(bobPage), carol: await rtp(carolPage) }
    await sleep(1500)
    const after = { bob: await rtp(bobPage), carol: await rtp(carolPage) }
    const seen = JSON.stringify({ before, after })
    assert.isAtLeast(after.bob.received - before.bob.received, 50, seen)
    assert.isAtLeast(after.carol.received - before.carol.received, 50, seen)

    // Switch: Carol waits on hold, Bob is back with Alice.
    await bobPage.click('#phone-switch')
    await bobPage.waitForFunction(
      () =>
        (globalThis as any).document
          .querySelector('#phone-parked-caller')
          ?.textContent?.includes('24'),
      undefined,
      { timeout: 10_000 }
    )
    await inState(bobPage, 'in-call')
    const back1 = await rtp(alicePage)
    await sleep(1500)
    const back2 = await rtp(alicePage)
    assert.isAtLeast(back2.received - back1.received, 50, JSON.stringify({ back1, back2 }))

    // Alice hangs up: Carol's call comes back on hold; Bob resumes it.
    await alicePage.click('#phone-hangup')
    await inState(bobPage, 'on-hold')
    assert.equal(await bobPage.getAttribute(PHONE, 'data-phone-parked'), '')
    await bobPage.click('#phone-hold')
    await inState(bobPage, 'in-call')
    await bobPage.click('#phone-hangup')
    await inState(carolPage, 'ended')

    const records = await CallRecord.query()
      .where('company_id', company.id)
      .where('direction', 'internal')
      .orderBy('id')
    assert.deepEqual(
      records.map((record) => [record.userId, record.calleeUserId, record.answeredAt !== null]),
      [
        [alice.id, bob.id, true],
        [carol.id, bob.id, true],
      ]
    )
  }).timeout(120_000)
})
