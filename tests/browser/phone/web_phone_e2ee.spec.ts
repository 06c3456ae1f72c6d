import { test } from '@japa/runner'
import { createHash } from 'node:crypto'
import type { Page } from 'playwright-core'
import CallRecord from '#calls/models/call_record'
import InternalLineService from '#calls/internal/internal_line_service'
import SipDeviceService from '#calls/services/sip_device_service'
import type { RelayedPacket } from '#media'
import { launchPhoneBrowser } from '#tests/support/chromium'
import {
  PHONE,
  audioIn,
  encryptionShown,
  inState,
  openPhone,
  toneIn,
  webPhoneGroup,
} from '#tests/browser/phone/phone_pages'
import { uniqueCompany, uniqueUser } from '#tests/support/browser'
import { freePort } from '#tests/support/sip_peers'
import { until } from '#tests/support/server_process'
import { tamperKeyExchange, tapRelayedMedia } from '#tests/support/e2ee'
import { registeredDesk } from '#tests/e2e/calls/desk_phones'
import { expectExit } from '#tests/e2e/calls/b2bua_races_peers'
import { parseHeader, TAG_BYTES } from '../../../resources/js/phone/e2ee/sframe.js'
import type { RecordedFrame } from '../../../resources/js/phone/e2ee/frame_cipher.js'
import { base64url, generateKeyPair } from '../../../resources/js/phone/e2ee/key_agreement.js'

/**
 * Issue 22: two colleagues' web phones (Chromium, fake microphones playing a tone) call each other
 * through our B2BUA and relay, and the browsers encrypt the audio frames end to end (SFrame). The
 * relay's test tap sees, after SRTP decryption, only SFrame ciphertext: each payload is a header,
 * the frame's length in ciphertext and a tag, and none is a frame the sender's transform was
 * given (the page's test hook records their SHA-256). Each side still hears the other's tone;
 * with the receiver's decryption switched off it hears noise. Both phones show the same code,
 * and a key substituted in transit (the B2BUA's test hook) makes the codes differ. A transfer to
 * a third web phone agrees new keys (epoch 2); a transfer on to a SIP desk phone (sipp) turns the
 * lock into "transportverschlüsselt".
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function recordedFrames(page: Page): Promise<RecordedFrame[]> {
  return page.evaluate(() => (globalThis as any).__phone.encryptionTestHooks.recordedFrames())
}

function setDecrypt(page: Page, decrypt: boolean) {
  return page.evaluate(
    (value) => (globalThis as any).__phone.encryptionTestHooks.setDecrypt(value),
    decrypt
  )
}

/** Waits until the phone's lock shows `state`; returns what it shows. */
async function encryptionIs(page: Page, state: string) {
  await page
    .waitForSelector(`${PHONE}[data-phone-encryption="${state}"]`, { timeout: 15_000 })
    .catch(async (error) => {
      throw new Error(
        `the lock is not "${state}": ${JSON.stringify(await encryptionShown(page))}`,
        {
          cause: error,
        }
      )
    })
  return encryptionShown(page)
}

/** The phone's peer connection as the browser sees it (for a failure's message). */
function connectionOf(page: Page) {
  return page.evaluate(async () => {
    const connection = (globalThis as any).__phone?.peerConnection
    if (!connection) return null
    const reports: Record<string, unknown>[] = []
    ;(await connection.getStats()).forEach((report: any) => {
      if (['inbound-rtp', 'outbound-rtp', 'transport'].includes(report.type)) reports.push(report)
    })
    return {
      state: connection.connectionState,
      ice: connection.iceConnectionState,
      signaling: connection.signalingState,
      reports,
    }
  })
}

/** Audio the receiver decoded over a couple of seconds: energy, concealment, the tone. */
async function listen(page: Page) {
  const before = await audioIn(page)
  const tone = await toneIn(page, 2000)
  const after = await audioIn(page)
  const samples = after.samples - before.samples
  return {
    packets: after.packets - before.packets,
    energy: after.energy - before.energy,
    concealedShare: samples > 0 ? (after.concealed - before.concealed) / samples : 1,
    ...tone,
  }
}

/**
 * The clearest of up to three listening windows: a busy machine (2 CPUs, two Chromiums) may stall
 * a window; the decoder must get through one without concealing anything to speak of.
 */
async function listenClearly(page: Page) {
  let best = await listen(page)
  for (let round = 1; round < 3 && !(best.concealedShare < 0.02 && best.toneDb > 20); round++) {
    const next = await listen(page)
    if (next.concealedShare < best.concealedShare) best = next
  }
  return best
}

/**
 * Checks every relayed audio payload of one direction against the frames a sender recorded:
 * an SFrame header, ciphertext as long as the recorded frame plus the tag, not the frame itself.
 * Returns how many payloads matched a recorded frame (0 when this sender is not the source).
 */
function checkCiphertext(payloads: Buffer[], recorded: RecordedFrame[]) {
  const byCounter = new Map(recorded.map((frame) => [`${frame.kid}:${frame.ctr}`, frame]))
  const hashes = new Set(recorded.map((frame) => frame.sha256))
  let matched = 0
  const problems: string[] = []
  for (const payload of payloads) {
    const header = parseHeader(payload)
    const frame = byCounter.get(`${header.kid}:${header.ctr}`)
    const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex')
    if (hashes.has(sha(payload))) problems.push('a payload equals a plaintext frame')
    if (!frame) continue
    if (payload.length !== header.length + frame.length + TAG_BYTES) {
      problems.push(`ctr ${header.ctr}: ${payload.length} bytes for a ${frame.length}-byte frame`)
      continue
    }
    const body = payload.subarray(header.length, header.length + frame.length)
    if (sha(body) === frame.sha256) problems.push(`ctr ${header.ctr}: the frame in clear`)
    matched++
  }
  return { matched, problems }
}

test.group('Web phone: end-to-end encrypted internal calls (issue 22)', (group) => {
  const { created, cleanups, userIds } = webPhoneGroup(group)

  test('web phones: SFrame ciphertext through the relay, the tone heard, the same code; a substituted key gives different codes; new keys after a transfer to a web phone, transport encryption after one to a desk phone', async ({
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const admin = await uniqueUser(created, 'admin', company)
    const alice = await uniqueUser(created, 'member', company)
    const bob = await uniqueUser(created, 'member', company)
    const carol = await uniqueUser(created, 'member', company)
    const dave = await uniqueUser(created, 'member', company)
    userIds.push(alice.id, bob.id, carol.id, dave.id)
    const lines = new InternalLineService()
    await lines.setExtension(company, alice.id, '22', { actor: admin, ip: null })
    await lines.setExtension(company, bob.id, '23', { actor: admin, ip: null })
    await lines.setExtension(company, carol.id, '24', { actor: admin, ip: null })
    await lines.setExtension(company, dave.id, '25', { actor: admin, ip: null })
    const browser = await launchPhoneBrowser()
    cleanups.push(() => browser.close())
    const alicePage = await openPhone(browser, alice.email)
    const bobPage = await openPhone(browser, bob.email)

    // A key substituted in transit: the relay swaps Bob's public key in his dhpart.
    const attacker = await generateKeyPair()
    const untamper = tamperKeyExchange((relayed) =>
      relayed.message.type === 'dhpart'
        ? Buffer.from(JSON.stringify({ ...relayed.message, pk: base64url(attacker.publicKey) }))
        : undefined
    )
    cleanups.push(untamper)
    await alicePage.fill('#phone-number', '23')
    await alicePage.click('#phone-call')
    await inState(bobPage, 'incoming')
    await bobPage.click('#phone-accept')
    const tamperedAlice = await encryptionIs(alicePage, 'e2ee')
    const tamperedBob = await encryptionIs(bobPage, 'e2ee')
    assert.match(tamperedAlice.code, /^\d{3} \d{3}$/)
    assert.notEqual(tamperedAlice.code, tamperedBob.code, 'a relay in between shows in the codes')
    untamper()
    await alicePage.click('#phone-hangup')
    await inState(bobPage, 'ended')

    // Bob's phone hands the ciphertext to its decoder undecrypted, from the call's first frame:
    // no tone comes out. Switched off in the middle of a call instead, the decoder concealed most
    // frames (the SFrame header read as a bad Opus TOC) and its concealment carried on the tone
    // it had decoded last (CI: the peak still at the tone's frequency after a second of that).
    await alicePage.fill('#phone-number', '23')
    await alicePage.click('#phone-call')
    await inState(bobPage, 'incoming')
    await setDecrypt(bobPage, false)
    await bobPage.click('#phone-accept')
    await inState(alicePage, 'in-call')
    await encryptionIs(bobPage, 'e2ee')
    await sleep(1000)
    const undecrypted = await listen(bobPage)
    await alicePage.click('#phone-hangup')
    await inState(bobPage, 'ended')

    // The real call, with the relay tapped from the start.
    const tap = await tapRelayedMedia()
    cleanups.push(tap.stop)
    await alicePage.fill('#phone-number', '23')
    await alicePage.click('#phone-call')
    await inState(bobPage, 'incoming')
    await bobPage.click('#phone-accept')
    await inState(alicePage, 'in-call')
    const aliceLock = await encryptionIs(alicePage, 'e2ee')
    const bobLock = await encryptionIs(bobPage, 'e2ee')
    assert.equal(aliceLock.code, bobLock.code, 'both phones show the same code')
    assert.include(aliceLock.label, 'Ende-zu-Ende verschlüsselt')
    assert.include(aliceLock.label, aliceLock.code)
    assert.isTrue(await alicePage.isVisible('#phone-encryption'))
    assert.isFalse(await alicePage.isVisible('#phone-encryption-failed'))
    // On a phone's screen (390 px) the lock and the code stay within the width.
    await alicePage.setViewportSize({ width: 390, height: 844 })
    const lock = await alicePage.locator('#phone-encryption-code').boundingBox()
    assert.isAtMost(lock!.x + lock!.width, 390, JSON.stringify(lock))

    // Each side hears the other's tone: packets and energy rise, nothing concealed to speak of.
    await sleep(1000)
    const atBob = await listenClearly(bobPage)
    const atAlice = await listenClearly(alicePage)
    const heard = JSON.stringify({ atBob, atAlice })
    for (const side of [atBob, atAlice]) {
      assert.isAtLeast(side.packets, 80, heard)
      assert.isAbove(side.energy, 0, heard)
      assert.isBelow(side.concealedShare, 0.02, heard)
      assert.isAbove(side.toneDb, 20, heard)
    }

    // What the relay forwarded meanwhile: SFrame ciphertext only, in both directions.
    const relayed = tap.packets.filter(
      (packet: RelayedPacket) => !packet.dtmf && packet.payload.length > 0
    )
    const aliceSent = await recordedFrames(alicePage)
    const bobSent = await recordedFrames(bobPage)
    assert.isAtLeast(aliceSent.length, 100)
    assert.isAtLeast(bobSent.length, 100)
    const directions = (['aToB', 'bToA'] as const).map((direction) =>
      relayed.filter((packet) => packet.direction === direction).map((packet) => packet.payload)
    )
    for (const payloads of directions) {
      assert.isAtLeast(payloads.length, 100)
      const fromAlice = checkCiphertext(payloads, aliceSent)
      const fromBob = checkCiphertext(payloads, bobSent)
      const sender = fromAlice.matched > fromBob.matched ? fromAlice : fromBob
      assert.deepEqual(sender.problems, [])
      // The frames recorded (the first 1000 of a sender) cover most of what was relayed.
      assert.isAtLeast(
        sender.matched,
        payloads.length * 0.9,
        JSON.stringify({ fromAlice, fromBob })
      )
    }

    // The call Bob could not decrypt: Alice's packets arrived and were decoded (as noise, or
    // concealed: that depends on how the SFrame header reads as an Opus TOC), the tone did not
    // come out: the spectrum's peak is elsewhere (decoded ciphertext and concealment noise have
    // peaks of their own, seen 15-26 dB) or the tone's frequency stands out 10 dB less than when
    // it was heard.
    const noise = JSON.stringify({ undecrypted, atBob })
    assert.isAtLeast(undecrypted.packets, 80, noise)
    const toneGone =
      Math.abs(undecrypted.peakHz - atBob.peakHz) > 20 || undecrypted.toneDb < atBob.toneDb - 10
    assert.isTrue(toneGone, noise)
    tap.stop()

    // Bob transfers Alice to Carol's web phone: a new pairing, new keys (epoch 2), one new code.
    const carolPage = await openPhone(browser, carol.email)
    const carolTap = await tapRelayedMedia()
    cleanups.push(carolTap.stop)
    await bobPage.fill('#phone-number', '24')
    await bobPage.click('#phone-transfer')
    await inState(carolPage, 'incoming')
    await carolPage.click('#phone-accept')
    await until('Alice sees 24', 15_000, async () =>
      (await alicePage.textContent('#phone-party'))?.trim() === '24' ? true : null
    )
    const aliceWithCarol = await encryptionIs(alicePage, 'e2ee')
    const carolLock = await encryptionIs(carolPage, 'e2ee')
    assert.equal(aliceWithCarol.code, carolLock.code, 'the new pair shows one code')
    const atCarol = await listenClearly(carolPage)
    const carolHeard = JSON.stringify({
      atCarol,
      carol: await connectionOf(carolPage),
      alice: await connectionOf(alicePage),
      aliceLock: await encryptionShown(alicePage),
      relayed: {
        aToB: carolTap.packets.filter((packet) => packet.direction === 'aToB').length,
        bToA: carolTap.packets.filter((packet) => packet.direction === 'bToA').length,
      },
    })
    carolTap.stop()
    assert.isAbove(atCarol.toneDb, 20, carolHeard)
    assert.isBelow(atCarol.concealedShare, 0.02, carolHeard)

    // Carol transfers Alice to Dave's desk phone (sipp): Alice's lock says transport encryption.
    const { device, password } = await new SipDeviceService().create(dave, 'Desk phone')
    const daveMedia = await freePort('udp', '127.0.0.3')
    const desk = await registeredDesk(
      { user: dave, username: device.sipUsername, password, deviceId: device.id },
      'internal_device_answer.xml',
      daveMedia,
      { timeoutSeconds: 60 }
    )
    cleanups.push(desk.sipp.stop, desk.unregister)
    await carolPage.fill('#phone-number', '25')
    await carolPage.click('#phone-transfer')
    await until('Alice sees 25', 15_000, async () =>
      (await alicePage.textContent('#phone-party'))?.trim() === '25' ? true : null
    )
    const afterTransfer = await encryptionIs(alicePage, 'transport')
    assert.include(afterTransfer.label, 'transportverschlüsselt')
    assert.equal(afterTransfer.code, '')
    assert.equal(afterTransfer.failure, '', 'no warning: the new party is simply no browser')
    // Dave's sipp plays its audio to Alice in clear frames (the browser no longer decrypts); the
    // clearest of up to three windows, as above (CI once saw 28 % concealed in one loaded window)
    const fromDave = await listenClearly(alicePage)
    assert.isAtLeast(fromDave.packets, 40, JSON.stringify(fromDave))
    assert.isBelow(fromDave.concealedShare, 0.25, JSON.stringify(fromDave))

    await alicePage.click('#phone-hangup')
    await expectExit(desk.sipp, 0, assert)
    const records = await until('the CDRs closed', 10_000, async () => {
      const rows = await CallRecord.query()
        .where('user_id', alice.id)
        .whereNotNull('ended_at')
        .orderBy('id')
      return rows.length === 3 ? rows : null
    })
    // The substituted key's call, the undecrypted one, the real one (transferred twice).
    assert.deepEqual(
      records.map((record) => record.endToEndEncrypted),
      [true, true, true]
    )
  }).timeout(180_000)
})
