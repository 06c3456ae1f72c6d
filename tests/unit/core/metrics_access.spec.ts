import { test } from '@japa/runner'
import { metricsAccess } from '#core/metrics/access'

test.group('Metrics access', () => {
  const base = { authorization: undefined, remoteAddress: '127.0.0.1' }

  test('with METRICS_TOKEN only the right bearer token opens it, from anywhere', ({ assert }) => {
    const token = 's3cret-token'
    const ask = (authorization: string | undefined, remoteAddress = '203.0.113.9') =>
      metricsAccess({ token, production: true, authorization, remoteAddress })
    assert.equal(ask('Bearer s3cret-token'), 'allowed')
    assert.equal(ask('bearer s3cret-token'), 'allowed', 'the scheme is case-insensitive (RFC 7235)')
    assert.equal(ask('Bearer s3cret-tokeN'), 'unauthorized')
    assert.equal(ask('Bearer s3cret'), 'unauthorized')
    assert.equal(ask('Basic czNjcmV0LXRva2Vu'), 'unauthorized')
    assert.equal(
      ask(undefined, '127.0.0.1'),
      'unauthorized',
      'loopback needs the token too once one is set'
    )
  })

  test('without a token: off in production, loopback only elsewhere', ({ assert }) => {
    assert.equal(metricsAccess({ ...base, token: undefined, production: true }), 'disabled')
    assert.equal(metricsAccess({ ...base, token: '  ', production: true }), 'disabled')
    assert.equal(metricsAccess({ ...base, token: undefined, production: false }), 'allowed')
    assert.equal(
      metricsAccess({ ...base, token: undefined, production: false, remoteAddress: '::1' }),
      'allowed'
    )
    assert.equal(
      metricsAccess({ ...base, token: undefined, production: false, remoteAddress: '10.0.0.5' }),
      'disabled'
    )
  })
})
