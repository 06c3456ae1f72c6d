import { test } from '@japa/runner'
import dgram from 'node:dgram'
import app from '@adonisjs/core/services/app'
import { buildB2bua } from '#calls/b2bua/b2bua_factory'
import RtpengineMediaEngine from '#media/rtpengine/rtpengine_media_engine'
import { completedCdr, loopbackCarriers } from '#tests/support/calls'
import { freePort } from '#tests/support/sip_peers'
import { expectExit, phoneFor, sippPhoneCall } from '#tests/e2e/calls/b2bua_races_peers'

/*
 * The B2BUA on the rtpengine media engine when rtpengine is not there: the call is refused with
 * 503 and Retry-After (a capacity refusal, counted as media_engine), no carrier is tried, the CDR
 * is closed. (Calls through a running rtpengine: tests/browser/phone/web_phone_rtpengine.spec.ts.)
 */

test.group('B2BUA on rtpengine: rtpengine not answering', (group) => {
  const cleanups: Array<() => unknown> = []
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  group.teardown(async () => {
    // The other call tests use the container's B2BUA
    ;(await app.container.make('calls.b2bua')).start()
  })

  test('a phone call gets 503 with Retry-After, no carrier is tried, the CDR is closed', async ({
    assert,
  }) => {
    // Nobody listens on this UDP port: every ng command goes unanswered
    const media = new RtpengineMediaEngine({
      ng: { host: '127.0.0.1', port: await freePort('udp') },
      innerAddress: '127.0.0.1',
      commandTimeoutMs: 500,
    })
    cleanups.push(() => media.close())
    const b2bua = await buildB2bua(app.container, { media })
    b2bua.start()
    // The carrier: a socket that counts what reaches it
    const carrier = dgram.createSocket('udp4')
    let invites = 0
    carrier.on('message', () => invites++)
    await new Promise<void>((resolve) => carrier.bind(0, '127.0.0.1', () => resolve()))
    cleanups.push(() => carrier.close())
    cleanups.push(await loopbackCarriers({ first: carrier.address().port }))

    const call = await sippPhoneCall(await phoneFor(), '+4930400009', 'phone_call_unavailable.xml')
    cleanups.push(call.stop)
    await expectExit(call, 0, assert)
    assert.match(call.messages(), /SIP\/2\.0 503 [^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*?Retry-After: \d+/i)
    const record = await completedCdr()
    assert.equal(record.disconnectCause, 'no_capacity')
    assert.equal(record.sipStatus, 503)
    assert.equal(record.hungUpBy, 'system')
    assert.equal(b2bua.refusedForCapacity.media_engine, 1)
    assert.equal(invites, 0, 'no carrier tried')
    assert.equal(media.openLegs, 0)
    assert.lengthOf(b2bua.calls, 0)
  }).timeout(60_000)
})
