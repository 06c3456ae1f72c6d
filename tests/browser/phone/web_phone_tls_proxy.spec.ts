import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import type { Browser } from 'playwright-core'
import { launchPhoneBrowser } from '#tests/support/chromium'
import { forgetPhoneUsers } from '#tests/support/calls'
import { Created, loginThroughForm, uniqueCompany, uniqueUser } from '#tests/support/browser'
import { freePort } from '#tests/support/sip_peers'
import { startServer, type ServerProcess } from '#tests/support/server_process'
import { startTlsProxy, type TlsProxy } from '#tests/support/tls_proxy'

/**
 * The production path of the web phone: HTTPS and the SIP WebSocket through nginx with the
 * shipped site file (deploy/nginx/fluffycall.conf) in front of a server process that trusts it
 * (TRUSTED_PROXIES=127.0.0.1), so the phone's socket counts as WSS.
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

  test('over HTTPS the web phone registers through nginx on a WSS socket', async ({ assert }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'member', company)
    userIds.push(user.id)
    const proxyPort = await freePort('tcp')
    const { server, httpPort } = await serverBehindProxy(proxyPort)
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
    assert.notInclude(proxy.errors(), '[error]')
  }).timeout(90_000)
})

async function stopServer(server: ServerProcess) {
  server.child.kill('SIGTERM')
  const exited = await Promise.race([
    server.exited,
    new Promise((resolve) => setTimeout(() => resolve(null), 10_000)),
  ])
  if (exited === null) server.child.kill('SIGKILL')
}
