import { test } from '@japa/runner'
import SipUri from '#sip/message/sip_uri'
import SipResolver from '#sip/resolver/sip_resolver'
import withFailover, { FailoverExhaustedError } from '#sip/resolver/with_failover'
import type { SipTarget } from '#sip/resolver/sip_target'
import FakeDns from '#tests/unit/calls/sip/resolver/fake_dns'

function target(address: string): SipTarget {
  return { transport: 'udp', address, port: 5060, hostname: 'carrier.example' }
}

test.group('withFailover', () => {
  test('tries targets in order and returns the first success; later ones are not tried', async ({
    assert,
  }) => {
    const tried: string[] = []
    const result = await withFailover(
      [target('192.0.2.1'), target('192.0.2.2'), target('192.0.2.3')],
      async (next) => {
        tried.push(next.address)
        if (next.address === '192.0.2.1') throw new Error('timeout')
        return `answered by ${next.address}`
      }
    )
    assert.equal(result, 'answered by 192.0.2.2')
    assert.deepEqual(tried, ['192.0.2.1', '192.0.2.2'])
  })

  test('when every target fails, the error holds each failure in order', async ({ assert }) => {
    const targets = [target('192.0.2.1'), target('192.0.2.2')]
    try {
      await withFailover(targets, async (next) => {
        throw new Error(`503 from ${next.address}`)
      })
      assert.fail('expected a FailoverExhaustedError')
    } catch (error) {
      assert.instanceOf(error, FailoverExhaustedError)
      const exhausted = error as FailoverExhaustedError
      assert.deepEqual(
        exhausted.errors.map((entry: Error) => entry.message),
        ['503 from 192.0.2.1', '503 from 192.0.2.2']
      )
      assert.deepEqual(exhausted.targets, targets)
    }
  })

  test('no targets is a failure, not a silent undefined', async ({ assert }) => {
    await assert.rejects(() => withFailover([], async () => 'never'), 'no targets to try')
  })

  test('with the resolver: the backup SRV target takes over when the primary does not answer', async ({
    assert,
  }) => {
    const dns = new FakeDns()
    dns.srv.set('_sip._udp.carrier.example', [
      { name: 'primary.example', port: 5060, priority: 10, weight: 0 },
      { name: 'backup.example', port: 5080, priority: 20, weight: 0 },
    ])
    dns.a.set('primary.example', ['192.0.2.1'])
    dns.a.set('backup.example', ['192.0.2.2'])
    const targets = await new SipResolver(dns, { transports: ['udp'] }).resolve(
      SipUri.parse('sip:carrier.example')
    )
    const reached = await withFailover(targets, async (next) => {
      if (next.hostname === 'primary.example') throw new Error('Timer B fired')
      return next
    })
    assert.deepEqual(reached, {
      transport: 'udp',
      address: '192.0.2.2',
      port: 5080,
      hostname: 'backup.example',
    })
  })
})
