import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import type { Browser } from 'playwright-core'
import { launchPhoneBrowser } from '#tests/support/chromium'
import { Created, loginThroughForm, uniqueCompany, uniqueUser } from '#tests/support/browser'
import { freePort } from '#tests/support/sip_peers'
import { startServer, until, type ServerProcess } from '#tests/support/server_process'
import { startTlsProxy, type TlsProxy } from '#tests/support/tls_proxy'
import { byteEntropy, startBaresip } from '#tests/support/baresip'
import { captureRtp } from '#tests/support/rtp_capture'
import { forgetPhoneUsers, loopbackCarriers } from '#tests/support/calls'
import { inState, rtp } from '#tests/browser/phone/phone_pages'
import CallRecord from '#calls/models/call_record'

/**
 * The production path of the web phone: HTTPS and the SIP WebSocket through nginx with the
 * shipped site file (deploy/nginx/fluffycall.conf) in front of a server process that trusts it
 * (TRUSTED_PROXIES=127.0.0.1), so the phone's socket counts as WSS; the call goes on to baresip as
 * a carrier over TLS with SDES-SRTP (its profile from LOCAL_CARRIER_* in the server's env).
 * Without the trust (TRUSTED_PROXIES empty) the caller's signalling flag is false: checked by hand.
 */

const PHONE = '#web-phone'

async function serverBehindProxy(proxyPort: number, extra: NodeJS.ProcessEnv = {}) {
  const sipPort = await freePort('udp')
  const httpPort = await freePort('tcp')
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(httpPort),
    APP_URL: `https://127.0.0.1:${proxyPort}`,
    TRUSTED_PROXIES: '127.0.0.1',
    SIP_TRANSPORTS: 'udp,tls,ws',
    SIP_UDP_PORT: String(sipPort),
    SIP_TLS_PORT: String(await freePort('tcp')),
    NODE_ID: 'tls-proxy-test-node',
    CALL_DRAIN_SECONDS: '1',
    NO_COLOR: '1',
    ...extra,
  }
  return { server: await startServer(env, sipPort), httpPort }
}

test.group('Web phone behind the TLS proxy (nginx)', (group) => {
  const created = new Created()
  const userIds: number[] = []
  const stops: Array<() => unknown> = []
  let browser: Browser | undefined
  group.each.teardown(async () => {
    await browser?.close()
    for (const stop of stops.splice(0).reverse()) await stop()
    await forgetPhoneUsers(userIds)
    await created.cleanup()
  })

  test('the production path: HTTPS and WSS through nginx, B2BUA, a carrier over TLS with SDES-SRTP; the CDR says every part was encrypted', async ({
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'member', company)
    userIds.push(user.id)
    const callee = `+4930${Math.floor(1_000_000 + Math.random() * 8_999_999)}`
    const carrier = await startBaresip({
      account: `<sip:${callee}@127.0.0.1;transport=tls>;regint=0;answermode=auto;mediaenc=srtp-mand`,
      seconds: 60,
      toneHz: 1000,
    })
    stops.push(() => carrier.stop())
    const carrierLeg = await captureRtp(carrier.rtpPort)
    stops.push(() => carrierLeg.stop())
    // The carrier's state and route rows; the server process reads its profile from the env
    stops.push(
      await loopbackCarriers({ local: carrier.tlsPort }, { transport: 'tls', srtp: 'sdes' })
    )

    const proxyPort = await freePort('tcp')
    const { server, httpPort } = await serverBehindProxy(proxyPort, {
      LOCAL_CARRIER_PORT: String(carrier.tlsPort),
      LOCAL_CARRIER_TRANSPORT: 'tls',
      LOCAL_CARRIER_SRTP: 'sdes',
    })
    stops.push(() => stopServer(server))
    const tls = app.tmpPath('sip-tls')
    const proxy: TlsProxy = await startTlsProxy({
      port: proxyPort,
      appPort: httpPort,
      certPath: `${tls}/cert.pem`,
      keyPath: `${tls}/key.pem`,
    })
    stops.push(() => proxy.stop())

    browser = await launchPhoneBrowser()
    const context = await browser.newContext({
      baseURL: proxy.origin,
      ignoreHTTPSErrors: true,
      locale: 'de-DE',
      permissions: ['microphone'],
    })
    const page = await context.newPage()
    await loginThroughForm(page, user.email)
    await page.goto('/app/phone')
    await page.waitForSelector(`${PHONE}[data-phone-registration="registered"]`, {
      timeout: 30_000,
    })
    assert.equal(new URL(page.url()).protocol, 'https:')

    await page.fill('#phone-number', callee)
    await page.click('#phone-call')
    try {
      await inState(page, 'in-call', 30_000)
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\nserver: ${server.stderr()}\ncarrier: ${carrier.output().slice(-3000)}\nnginx: ${proxy.errors()}`
      )
    }
    // Talk for a moment: the browser hears the carrier's tone through both decryptions
    await until('audio from the carrier', 15_000, async () => (await rtp(page)).received > 50)
    await page.click('#phone-hangup')
    const record = await until('the completed CDR', 15_000, () =>
      CallRecord.query()
        .where('user_id', user.id)
        .where('callee_number', callee)
        .whereNotNull('ended_at')
        .first()
    )
    assert.isNotNull(record.answeredAt)
    assert.equal(record.carrierName, 'local')
    assert.deepEqual(
      {
        callerSignalling: record.callerSignallingEncrypted,
        callerMedia: record.callerMediaEncrypted,
        calleeSignalling: record.calleeSignallingEncrypted,
        calleeMedia: record.calleeMediaEncrypted,
      },
      { callerSignalling: true, callerMedia: true, calleeSignalling: true, calleeMedia: true },
      'WSS through the trusted proxy, DTLS-SRTP, TLS, SDES-SRTP'
    )
    assert.match(carrier.output(), /SRTP is Enabled/)
    // tshark reads SRTP as RTP: ciphertext is near 8 bits per byte, a G.711 tone far below 7.5
    const packets = await carrierLeg.stop()
    const toCarrier = packets.filter((packet) => packet.toPort === carrier.rtpPort)
    assert.isAbove(toCarrier.length, 50, 'media reached the carrier')
    assert.isAtLeast(byteEntropy(toCarrier.map((packet) => packet.payload)), 7.5)
    assert.notInclude(proxy.errors(), '[error]')
  }).timeout(120_000)
})

async function stopServer(server: ServerProcess) {
  server.child.kill('SIGTERM')
  const exited = await Promise.race([
    server.exited,
    new Promise((resolve) => setTimeout(() => resolve(null), 10_000)),
  ])
  if (exited === null) server.child.kill('SIGKILL')
}
