import { test } from '@japa/runner'
import { decideFailover, TRYING_TIMEOUT_MS } from '#calls/routing/failover_policy'

test.group('Failover policy', () => {
  test('fails over on 408, 500, 502, 503, 504, silence and transport errors', ({ assert }) => {
    for (const status of [408, 500, 502, 503, 504]) {
      assert.equal(decideFailover({ kind: 'response', status }), 'next_carrier', String(status))
    }
    assert.equal(decideFailover({ kind: 'no_trying' }), 'next_carrier')
    assert.equal(
      decideFailover({ kind: 'transport_error', message: 'ECONNREFUSED' }),
      'next_carrier'
    )
    assert.equal(TRYING_TIMEOUT_MS, 2000)
  })

  test('404, 480, 486, 487 and every 6xx are final', ({ assert }) => {
    for (const status of [404, 480, 486, 487, 600, 603, 604, 606]) {
      assert.equal(decideFailover({ kind: 'response', status }), 'final', String(status))
    }
  })

  test('after an 18x nothing fails over, not even a 503', ({ assert }) => {
    assert.equal(decideFailover({ kind: 'response', status: 503 }, true), 'final')
    assert.equal(decideFailover({ kind: 'transport_error' }, true), 'final')
  })

  test('a 2xx is a connected call', ({ assert }) => {
    assert.equal(decideFailover({ kind: 'response', status: 200 }), 'connected')
  })
})
