import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import type { Browser } from 'playwright-core'
import PhoneNumber from '#calls/models/phone_number'
import type IncomingInvite from '#sip/ua/incoming_invite'
import type SipUri from '#sip/message/sip_uri'
import { launchPhoneBrowser } from '#tests/support/chromium'
import { forgetPhoneUsers } from '#tests/support/calls'
import { Created, loginThroughForm, uniqueCompany, uniqueUser } from '#tests/support/browser'

/**
 * What the page sends when it calls: the INVITE's target, caller-ID and CLIR headers and a G.711
 * only offer, and how it shows the server's refusals. The SIP stack's INVITE handler stands in for
 * the B2BUA here and answers with final errors only (connected calls are the B2BUA's tests).
 * Chromium runs with a fake microphone, as the real web phone tests do.
 */

const REGISTERED = '#web-phone[data-phone-state="registered"]'

test.group('Web phone in the browser: placing calls', (group) => {
  const created = new Created()
  const userIds: number[] = []
  let browser: Browser | undefined
  group.each.teardown(async () => {
    const stack = await app.container.make('sip.stack')
    stack.core.setInviteHandler(undefined)
    await browser?.close()
    await forgetPhoneUsers(userIds)
    await created.cleanup()
  })

  test('the INVITE carries the E.164 target, the chosen caller ID, CLIR and an offer of Opus, then G.711; busy, unreachable, refusals and a failed emergency call show their reason until dismissed', async ({
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'member', company)
    userIds.push(user.id)
    const number = `+4930${String(Date.now()).slice(-8)}`
    await PhoneNumber.create({
      number,
      carrierName: 'local',
      companyId: company.id,
      userId: user.id,
    })

    const stack = await app.container.make('sip.stack')
    const invites: IncomingInvite[] = []
    let answer: (invite: IncomingInvite) => void = (invite) => invite.reject(486)
    stack.core.setInviteHandler((invite) => {
      invites.push(invite)
      answer(invite)
    })

    browser = await launchPhoneBrowser()
    const context = await browser.newContext({
      baseURL: `http://${process.env.HOST}:${process.env.PORT}`,
      locale: 'de-DE',
      permissions: ['microphone'],
    })
    const page = await context.newPage()
    await loginThroughForm(page, user.email)
    await page.goto('/app/phone')
    await page.waitForSelector(REGISTERED, { timeout: 30_000 })

    await page.fill('#phone-number', '030 1234 5678')
    await page.check('#phone-withhold')
    await page.click('#phone-call')
    await page.waitForSelector('#web-phone[data-phone-state="busy"]', { timeout: 15_000 })
    assert.equal(await page.getAttribute('#web-phone', 'data-phone-last-status'), '486')
    assert.equal((await page.textContent('#phone-status'))?.trim(), 'Besetzt')
    assert.equal(
      await page.textContent('#phone-outcome-text'),
      'Die Gegenstelle ist besetzt. Versuchen Sie es später noch einmal.'
    )
    // The reason stays until dismissed (it used to vanish after 4 s).
    await new Promise((resolve) => setTimeout(resolve, 4500))
    assert.isTrue(await page.locator('#phone-outcome').isVisible(), 'the reason is still shown')
    assert.equal(await page.getAttribute('#web-phone', 'data-phone-state'), 'busy')
    await page.click('#phone-outcome-dismiss')
    assert.isFalse(await page.locator('#phone-outcome').isVisible())

    assert.lengthOf(invites, 1)
    const request = invites[0].request
    assert.equal((request.uri as SipUri).user, '+493012345678')
    assert.equal(request.headers.get('X-FluffyCall-Caller-Id'), number)
    assert.equal(request.headers.get('Privacy'), 'id')
    const offer = invites[0].offer?.body.toString() ?? ''
    const audio = /^m=audio \d+ \S+ ([\d ]+)$/m.exec(offer)
    assert.isNotNull(audio, offer)
    const codecs = audio![1]
      .split(' ')
      .map((pt) => new RegExp(`^a=rtpmap:${pt} (\\S+)$`, 'm').exec(offer)?.[1] ?? pt)
    // Opus first, G.711 for carriers and SIP phones, nothing else (no G722, RED, CN, DTMF at 48 kHz)
    assert.deepEqual(codecs, ['opus/48000/2', 'PCMU/8000', 'PCMA/8000', 'telephone-event/8000'])

    // The server's own reason phrase is shown for a refusal; without CLIR the number is shown.
    answer = (invite) => invite.reject(403, { reason: 'Company suspended' })
    await page.waitForSelector(REGISTERED, { timeout: 10_000 })
    await page.uncheck('#phone-withhold')
    await page.click('#phone-call')
    await page.waitForSelector('#web-phone[data-phone-state="refused"]', { timeout: 15_000 })
    assert.include(await page.textContent('#phone-status'), 'Company suspended')
    assert.equal(
      await page.textContent('#phone-outcome-text'),
      'Der Anruf wurde abgelehnt (403 Company suspended).'
    )
    assert.equal(invites[1].request.headers.get('Privacy'), 'none')

    // A new call clears the last reason by itself; the B2BUA's own phrases are put in words.
    answer = (invite) =>
      invite.reject(403, { reason: 'No EU carrier serves this number (EU-only data residency)' })
    await page.click('#phone-call')
    await page.waitForSelector(
      '#web-phone[data-phone-outcome="refused"][data-phone-last-status="403"] #phone-outcome[data-reason="reason.eu_only"]',
      { timeout: 15_000 }
    )
    assert.include(
      await page.textContent('#phone-outcome-text'),
      'Kein Netzbetreiber in der EU bedient diese Nummer'
    )
    await page.click('#phone-outcome-dismiss')

    answer = (invite) => invite.reject(480)
    await page.waitForSelector(REGISTERED, { timeout: 10_000 })
    await page.click('#phone-call')
    await page.waitForSelector('#web-phone[data-phone-state="unreachable"]', { timeout: 15_000 })
    assert.equal((await page.textContent('#phone-status'))?.trim(), 'Nicht erreichbar')
    assert.equal(
      await page.textContent('#phone-outcome-text'),
      'Niemand hat abgenommen, oder die Gegenstelle ist gerade nicht erreichbar.'
    )
    await page.click('#phone-outcome-dismiss')

    // A failed emergency call says so and what to do instead.
    answer = (invite) => invite.reject(503, { reason: 'No carrier available' })
    await page.fill('#phone-number', '112')
    await page.click('#phone-call')
    await page.waitForSelector(
      '#web-phone[data-phone-state="unreachable"] #phone-outcome[data-emergency="true"]',
      { timeout: 15_000 }
    )
    assert.equal(
      await page.textContent('#phone-outcome-text'),
      'Der Notruf 112 konnte nicht verbunden werden: Kein Netzbetreiber hat den Anruf angenommen. Bitte versuchen Sie es in einigen Minuten noch einmal. Rufen Sie sofort über ein anderes Telefon (zum Beispiel ein Mobiltelefon) die 112 an.'
    )
    assert.equal((invites.at(-1)!.request.uri as SipUri).user, '112')
  }).timeout(90_000)
})
