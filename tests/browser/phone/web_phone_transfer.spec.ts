import { test } from '@japa/runner'
import CallRecord from '#calls/models/call_record'
import InternalLineService from '#calls/internal/internal_line_service'
import SipDeviceService from '#calls/services/sip_device_service'
import { launchPhoneBrowser } from '#tests/support/chromium'
import { PHONE, inState, openPhone, rtp, webPhoneGroup } from '#tests/browser/phone/phone_pages'
import { uniqueCompany, uniqueUser } from '#tests/support/browser'
import { freePort } from '#tests/support/sip_peers'
import { captureRtp } from '#tests/support/rtp_capture'
import { until } from '#tests/support/server_process'
import { registeredDesk } from '#tests/e2e/calls/desk_phones'
import { expectExit } from '#tests/e2e/calls/b2bua_races_peers'

/**
 * Blind transfer from the web phone: Alice's web phone (Chromium) calls Bob's (extension 23) on
 * Opus; Bob answers, types 24 and presses "Weiterleiten". Carol's SIP desk phone (sipp, G.711
 * only) rings and answers: Alice's phone is re-offered PCMA and hears Carol's audio, Carol hears
 * Alice, Bob's call ends. The CDR names the transfer.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test.group('Web phone: blind transfer', (group) => {
  const { created, cleanups, userIds } = webPhoneGroup(group)

  test('Bob transfers Alice to Carol’s desk phone: audio on the new pair, Alice re-offered G.711, Bob let go', async ({
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
    const browser = await launchPhoneBrowser()
    cleanups.push(() => browser.close())
    const alicePage = await openPhone(browser, alice.email)
    const bobPage = await openPhone(browser, bob.email)

    await alicePage.fill('#phone-number', '23')
    await alicePage.click('#phone-call')
    await inState(bobPage, 'incoming')
    await bobPage.click('#phone-accept')
    await inState(alicePage, 'in-call')
    await inState(bobPage, 'in-call')
    assert.equal((await alicePage.textContent('#phone-party'))?.trim(), '23')
    // Two web phones talk Opus (its statistics come with the first packets).
    await until('Alice on Opus', 10_000, async () =>
      (await rtp(alicePage)).codec.toLowerCase() === 'audio/opus' ? true : null
    )

    // Carol's desk phone registers now (its sipp runs for a minute at most).
    const { device, password } = await new SipDeviceService().create(carol, 'Desk phone')
    const carolMedia = await freePort('udp', '127.0.0.3')
    const carolAudio = await captureRtp(carolMedia)
    const desk = await registeredDesk(
      { user: carol, username: device.sipUsername, password, deviceId: device.id },
      'internal_device_answer.xml',
      carolMedia,
      { timeoutSeconds: 60 }
    )
    cleanups.push(desk.sipp.stop, desk.unregister)

    // An empty number field: the transfer asks for a target next to the field.
    await bobPage.click('#phone-transfer')
    assert.isTrue(await bobPage.isVisible('#phone-number-error'))
    await bobPage.fill('#phone-number', '24')
    await bobPage.click('#phone-transfer')

    // Bob's call ends once Carol answers; Alice stays in her call, now with Carol.
    await bobPage.waitForSelector(`${PHONE}:not([data-phone-state="in-call"])`, {
      timeout: 15_000,
    })
    await until('Alice re-offered G.711', 10_000, async () =>
      (await rtp(alicePage)).codec.toLowerCase() === 'audio/pcma' ? true : null
    )
    // Alice's phone learns whom she talks with now (P-Asserted-Identity in our re-INVITE).
    await until('Alice sees 24', 10_000, async () =>
      (await alicePage.textContent('#phone-party'))?.trim() === '24' ? true : null
    )
    const before = await rtp(alicePage)
    await sleep(2000)
    const after = await rtp(alicePage)
    const seen = JSON.stringify({ before, after })
    // Carol's pcap reaches Alice (sipp plays it at about 50 packets per second; the browser's
    // counters lag a little right after the re-offer).
    assert.isAtLeast(after.received - before.received, 40, seen)
    assert.isAtLeast(after.sent - before.sent, 80, seen)
    await inState(alicePage, 'in-call')

    await alicePage.click('#phone-hangup')
    await expectExit(desk.sipp, 0, assert)
    const carolHeard = (await carolAudio.stop()).filter(
      (packet) => packet.toPort === carolMedia && packet.payloadType === 8
    ).length
    assert.isAtLeast(carolHeard, 80, `Carol heard ${carolHeard}`)

    const record = await until('the call’s CDR closed', 10_000, () =>
      CallRecord.query().where('user_id', alice.id).whereNotNull('ended_at').first()
    )
    assert.equal(record.direction, 'internal')
    assert.equal(record.forwardedTo, '24')
    assert.equal(record.forwardReason, 'transfer')
    assert.isNotNull(record.answeredAt)
  }).timeout(120_000)
})
