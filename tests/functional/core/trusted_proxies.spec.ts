import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import env from '#start/env'
import { compileProxyTrust, parseTrustedProxies } from '#core/proxy_trust'
import { makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'

const LOOPBACK = ['127.0.0.1', '::1', '::ffff:127.0.0.1']

/**
 * X-Forwarded-For decides whose login attempts count together and what the audit log records, so
 * only the TLS proxies named in TRUSTED_PROXIES may set it. (.env.test names loopback: there the
 * API client plays the proxy.)
 */
test.group('Trusted proxies', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('without TRUSTED_PROXIES nobody is trusted, loopback included', ({ assert }) => {
    const trust = compileProxyTrust(parseTrustedProxies(undefined))
    for (const address of [...LOOPBACK, '10.0.0.2', '203.0.113.1']) {
      assert.isFalse(trust(address, 0), address)
    }
    assert.deepEqual(parseTrustedProxies(''), [])
  })

  test('TRUSTED_PROXIES trusts exactly the proxies it names', ({ assert }) => {
    const trust = compileProxyTrust(parseTrustedProxies(' 10.0.0.2, 192.0.2.0/24 '))
    assert.isTrue(trust('10.0.0.2', 0))
    assert.isTrue(trust('192.0.2.77', 0))
    assert.isFalse(trust('10.0.0.3', 0))
    assert.isFalse(trust('127.0.0.1', 0))
  })

  test('HTTP and the SIP WebSocket follow the same list', ({ assert }) => {
    const configured = parseTrustedProxies(env.get('TRUSTED_PROXIES'))
    assert.deepEqual(app.config.get<string[]>('sip.ws.trustedProxies'), configured)
    const httpTrust = app.config.get<any>('app.http').trustProxy as (
      address: string,
      hop: number
    ) => boolean
    const wsTrust = compileProxyTrust(app.config.get<string[]>('sip.ws.trustedProxies'))
    for (const address of [...LOOPBACK, '10.0.0.2', '203.0.113.1']) {
      assert.equal(httpTrust(address, 0), wsTrust(address, 0), address)
    }
  })

  test('with the default, a login from loopback is recorded with the peer, not the forwarded address', async ({
    client,
    assert,
    cleanup,
  }) => {
    const http = app.config.get<any>('app.http')
    const configured = http.trustProxy
    http.trustProxy = compileProxyTrust(parseTrustedProxies(undefined))
    cleanup(() => {
      http.trustProxy = configured
    })
    const user = await makeUser('member')
    const mark = await auditMark()

    const response = await client
      .post('/login')
      .header('X-Forwarded-For', '203.0.113.66')
      .form({ email: user.email, password: 'wrong-password-1' })
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    const failed = await auditSince(mark)
      .where('action', 'auth.login.failed')
      .where('actor_id', user.id)
      .firstOrFail()
    assert.include(LOOPBACK, failed.ip ?? '')
  })
})
