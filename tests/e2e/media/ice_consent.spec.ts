import { test } from '@japa/runner'
import type dgram from 'node:dgram'
import WeriftWebRtcLeg from '#media/werift_webrtc_leg'
import { FakeBrowser, sleep, waitFor } from '#tests/e2e/media/media_peers'

/*
 * ICE consent freshness (RFC 7675) of a connected browser leg, run by us instead of werift once the
 * leg took over the packet path: against a werift browser on 127.0.0.1, with short periods (the
 * leg's consent seam) so that the 30 s expiry takes two seconds here.
 */

/** The browser's ICE sockets (werift internals, test only): made deaf, it answers nothing. */
function silence(browser: FakeBrowser) {
  const connection = (
    browser.pc.iceTransports[0] as unknown as {
      connection: { protocols: { transport?: { socket?: dgram.Socket } }[] }
    }
  ).connection
  for (const protocol of connection.protocols) {
    const socket = protocol.transport?.socket
    if (!socket) continue
    socket.removeAllListeners('message')
    socket.on('message', () => {})
  }
}

/** RFC 7675's 5 s and 30 s shortened: checks every 200 ms, consent lost after 1.5 s. */
const SHORT = { intervalMs: 200, timeoutMs: 1500 }

/** A leg connected to a werift browser; both closed at the test's end. */
async function connectedLeg(
  consent: { intervalMs: number; timeoutMs: number },
  cleanup: (fn: () => Promise<void>) => void
) {
  let failures = 0
  const leg = new WeriftWebRtcLeg({
    announcedIps: ['127.0.0.1'],
    portRange: [3530, 3539],
    onFailed: () => failures++,
    consent,
  })
  const browser = new FakeBrowser()
  cleanup(async () => {
    await leg.close()
    await browser.close()
  })
  const { sdp } = await leg.answer(await browser.offer(), { codecs: ['PCMU'] })
  await browser.acceptAnswer(sdp)
  await Promise.all([leg.ready(), browser.connected()])
  return { leg, browser, failures: () => failures }
}

test.group('ICE consent freshness of a browser leg', () => {
  test("our checks replace werift's once connected; the browser answers them and nothing fails", async ({
    assert,
    cleanup,
  }) => {
    const { leg, browser, failures } = await connectedLeg(SHORT, cleanup)
    assert.isNotNull(leg.consentChecks, "werift's consent loop was replaced")
    const ice = browser.pc.iceTransports[0] as unknown as { connection: { state: string } }
    await sleep(2500)
    const checks = leg.consentChecks!
    assert.isAtLeast(checks.sent, 8)
    assert.isAtLeast(checks.received, checks.sent - 2)
    assert.equal(failures(), 0)
    assert.isFalse(leg.failed)
    assert.equal(ice.connection.state, 'connected', 'the browser still sees the pair working')
  })

  test('a browser that stops answering loses consent after the timeout: the leg fails once', async ({
    assert,
    cleanup,
  }) => {
    const { leg, browser, failures } = await connectedLeg(SHORT, cleanup)
    await sleep(500)
    assert.equal(failures(), 0)
    silence(browser)
    const silentAt = performance.now()
    await waitFor(() => failures() > 0, 4000, 'consent lost')
    const after = performance.now() - silentAt
    // Lost 1.5 s after the last answer, which came at most one check (<= 240 ms) before the silence
    assert.isAtLeast(after, 1500 - 300)
    assert.isAtMost(after, 1500 + 500)
    assert.isTrue(leg.failed)
    await sleep(500)
    assert.equal(failures(), 1)
  })

  test('a leg we close stops its checks and never fails', async ({ assert, cleanup }) => {
    const { leg, failures } = await connectedLeg({ intervalMs: 200, timeoutMs: 1000 }, cleanup)
    await leg.close()
    const sent = leg.consentChecks!.sent
    await sleep(1500)
    assert.equal(leg.consentChecks!.sent, sent)
    assert.equal(failures(), 0)
  })
})
