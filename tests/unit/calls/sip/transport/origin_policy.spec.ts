import type { IncomingMessage } from 'node:http'
import { test } from '@japa/runner'
import OriginPolicy from '#sip/transport/origin_policy'
import { compileProxyTrust, resolveClient } from '#sip/transport/client_address'

function upgradeRequest(peer: string, headers: Record<string, string> = {}): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers, connection: { remoteAddress: peer } } as never
}

test.group('OriginPolicy', () => {
  test('allows the configured origins, in any spelling of the same origin', ({ assert }) => {
    const policy = new OriginPolicy(['http://localhost:3333', 'https://phone.fluffycall.de/app'])
    assert.isTrue(policy.allows('http://localhost:3333'))
    assert.isTrue(policy.allows('HTTP://LOCALHOST:3333'))
    assert.isTrue(policy.allows('https://phone.fluffycall.de'))
    assert.isTrue(policy.allows('https://phone.fluffycall.de:443'))
  })

  test('refuses foreign, missing, opaque and malformed origins', ({ assert }) => {
    const policy = new OriginPolicy(['http://localhost:3333'])
    assert.isFalse(policy.allows('http://localhost:3334'))
    assert.isFalse(policy.allows('https://localhost:3333'))
    assert.isFalse(policy.allows('http://evil.example'))
    assert.isFalse(policy.allows(undefined))
    assert.isFalse(policy.allows('null'))
    assert.isFalse(policy.allows('not a url'))
  })

  test('a malformed configured origin fails at boot', ({ assert }) => {
    assert.throws(() => new OriginPolicy(['localhost']), /not a valid origin/)
  })
})

test.group('Client address behind proxies', () => {
  test('X-Forwarded-For is ignored from an untrusted peer', ({ assert }) => {
    const trust = compileProxyTrust([])
    const client = resolveClient(
      upgradeRequest('198.51.100.4', {
        'x-forwarded-for': '203.0.113.1',
        'x-forwarded-proto': 'https',
      }),
      trust
    )
    assert.deepEqual(client, { address: '198.51.100.4', secure: false })
  })

  test('X-Forwarded-For and -Proto are believed from a trusted proxy', ({ assert }) => {
    const trust = compileProxyTrust(['10.0.0.2'])
    const client = resolveClient(
      upgradeRequest('10.0.0.2', {
        'x-forwarded-for': '203.0.113.1',
        'x-forwarded-proto': 'https',
      }),
      trust
    )
    assert.deepEqual(client, { address: '203.0.113.1', secure: true })
  })

  test('a forged hop in front of the trusted proxy is not believed', ({ assert }) => {
    const trust = compileProxyTrust(['10.0.0.2'])
    const client = resolveClient(
      upgradeRequest('10.0.0.2', { 'x-forwarded-for': '1.1.1.1, 203.0.113.1' }),
      trust
    )
    assert.equal(client.address, '203.0.113.1')
  })
})
