import { test } from '@japa/runner'
import SipUri from '#sip/message/sip_uri'
import SipResolver from '#sip/resolver/sip_resolver'
import type { SipTarget } from '#sip/resolver/sip_target'
import FakeDns, { sequence } from '#tests/unit/calls/sip/resolver/fake_dns'

const uri = (text: string) => SipUri.parse(text)
const brief = (targets: SipTarget[]) =>
  targets.map((target) => `${target.transport} ${target.address}:${target.port}`)

test.group('SipResolver', () => {
  test('numeric addresses are used directly, on the URI port or the default, without DNS', async ({
    assert,
  }) => {
    const dns = new FakeDns()
    const resolver = new SipResolver(dns)
    assert.deepEqual(brief(await resolver.resolve(uri('sip:192.0.2.10'))), ['udp 192.0.2.10:5060'])
    assert.deepEqual(brief(await resolver.resolve(uri('sip:[2001:db8::1]:5080'))), [
      'udp 2001:db8::1:5080',
    ])
    assert.deepEqual(brief(await resolver.resolve(uri('sips:192.0.2.10'))), ['tls 192.0.2.10:5061'])
    assert.deepEqual(brief(await resolver.resolve(uri('sip:192.0.2.10;transport=tcp'))), [
      'tcp 192.0.2.10:5060',
    ])
    assert.deepEqual(dns.queries, [])
  })

  test('an explicit port skips SRV and resolves A and AAAA', async ({ assert }) => {
    const dns = new FakeDns()
    dns.srv.set('_sip._udp.carrier.example', [
      { name: 'wrong.example', port: 9999, priority: 0, weight: 0 },
    ])
    dns.a.set('carrier.example', ['192.0.2.1'])
    dns.aaaa.set('carrier.example', ['2001:db8::5'])
    const targets = await new SipResolver(dns).resolve(uri('sip:carrier.example:5070'))
    assert.deepEqual(brief(targets), ['udp 192.0.2.1:5070', 'udp 2001:db8::5:5070'])
    assert.equal(targets[0].hostname, 'carrier.example')
    assert.isFalse(dns.queries.some((query) => query.startsWith('SRV')))
  })

  test('SRV records go by priority first; each target is resolved to its addresses', async ({
    assert,
  }) => {
    const dns = new FakeDns()
    dns.srv.set('_sip._udp.carrier.example', [
      { name: 'backup.carrier.example', port: 5062, priority: 20, weight: 0 },
      { name: 'main.carrier.example', port: 5060, priority: 10, weight: 0 },
    ])
    dns.a.set('main.carrier.example', ['192.0.2.1'])
    dns.a.set('backup.carrier.example', ['192.0.2.2'])
    dns.aaaa.set('backup.carrier.example', ['2001:db8::2'])
    const targets = await new SipResolver(dns, { transports: ['udp'] }).resolve(
      uri('sip:carrier.example')
    )
    assert.deepEqual(brief(targets), [
      'udp 192.0.2.1:5060',
      'udp 192.0.2.2:5062',
      'udp 2001:db8::2:5062',
    ])
  })

  test('within a priority the order is drawn by weight (RFC 2782 running sums)', async ({
    assert,
  }) => {
    const dns = new FakeDns()
    dns.srv.set('_sip._udp.carrier.example', [
      { name: 'a.example', port: 5060, priority: 10, weight: 60 },
      { name: 'b.example', port: 5060, priority: 10, weight: 40 },
    ])
    dns.a.set('a.example', ['192.0.2.1'])
    dns.a.set('b.example', ['192.0.2.2'])
    const order = async (random: () => number) =>
      brief(
        await new SipResolver(dns, { transports: ['udp'], random }).resolve(
          uri('sip:carrier.example')
        )
      )
    // Sum 100: a draw of 0..60 lands on a (running sum 60), 61..100 on b.
    assert.deepEqual(await order(sequence(0.5, 0)), ['udp 192.0.2.1:5060', 'udp 192.0.2.2:5060'])
    assert.deepEqual(await order(sequence(0.61, 0)), ['udp 192.0.2.2:5060', 'udp 192.0.2.1:5060'])
  })

  test('over many draws each target comes first in proportion to its weight; weight 0 rarely', async ({
    assert,
  }) => {
    const dns = new FakeDns()
    dns.srv.set('_sip._udp.carrier.example', [
      { name: 'heavy.example', port: 5060, priority: 1, weight: 75 },
      { name: 'light.example', port: 5060, priority: 1, weight: 25 },
      { name: 'zero.example', port: 5060, priority: 1, weight: 0 },
    ])
    dns.a.set('heavy.example', ['192.0.2.1'])
    dns.a.set('light.example', ['192.0.2.2'])
    dns.a.set('zero.example', ['192.0.2.3'])
    // A fixed linear congruential sequence: reproducible, and spread evenly enough over [0, 1).
    let state = 12345
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31
      return state / 2 ** 31
    }
    const resolver = new SipResolver(dns, { transports: ['udp'], random })
    const first: Record<string, number> = {}
    const runs = 4000
    for (let run = 0; run < runs; run++) {
      const [top] = await resolver.resolve(uri('sip:carrier.example'))
      first[top.address] = (first[top.address] ?? 0) + 1
    }
    assert.closeTo(first['192.0.2.1'] / runs, 75 / 101, 0.03)
    assert.closeTo(first['192.0.2.2'] / runs, 25 / 101, 0.03)
    assert.isBelow((first['192.0.2.3'] ?? 0) / runs, 0.03)
  })

  test('without a transport parameter SRV is asked for UDP, TCP and TLS, in that order', async ({
    assert,
  }) => {
    const dns = new FakeDns()
    dns.srv.set('_sip._udp.carrier.example', [
      { name: 'udp.example', port: 5060, priority: 1, weight: 0 },
    ])
    dns.srv.set('_sip._tcp.carrier.example', [
      { name: 'tcp.example', port: 5060, priority: 1, weight: 0 },
    ])
    dns.srv.set('_sips._tcp.carrier.example', [
      { name: 'tls.example', port: 5061, priority: 1, weight: 0 },
    ])
    dns.a.set('udp.example', ['192.0.2.1'])
    dns.a.set('tcp.example', ['192.0.2.2'])
    dns.a.set('tls.example', ['192.0.2.3'])
    const resolver = new SipResolver(dns)
    assert.deepEqual(brief(await resolver.resolve(uri('sip:carrier.example'))), [
      'udp 192.0.2.1:5060',
      'tcp 192.0.2.2:5060',
      'tls 192.0.2.3:5061',
    ])
    assert.deepEqual(brief(await resolver.resolve(uri('sip:carrier.example;transport=tcp'))), [
      'tcp 192.0.2.2:5060',
    ])
    assert.deepEqual(brief(await resolver.resolve(uri('sips:carrier.example'))), [
      'tls 192.0.2.3:5061',
    ])
  })

  test('without SRV records the host itself is used on the default port', async ({ assert }) => {
    const dns = new FakeDns()
    dns.a.set('pbx.example', ['192.0.2.7'])
    assert.deepEqual(brief(await new SipResolver(dns).resolve(uri('sip:pbx.example'))), [
      'udp 192.0.2.7:5060',
    ])
    assert.deepEqual(brief(await new SipResolver(dns).resolve(uri('sips:pbx.example'))), [
      'tls 192.0.2.7:5061',
    ])
  })

  test('a "." SRV target means no service; an unknown name gives no targets', async ({
    assert,
  }) => {
    const dns = new FakeDns()
    dns.srv.set('_sip._udp.closed.example', [{ name: '.', port: 0, priority: 0, weight: 0 }])
    dns.a.set('closed.example', ['192.0.2.8'])
    const resolver = new SipResolver(dns, { transports: ['udp'] })
    assert.deepEqual(await resolver.resolve(uri('sip:closed.example')), [])
    assert.deepEqual(await resolver.resolve(uri('sip:nowhere.example')), [])
  })

  test('a failing DNS query for one transport or target does not hide the others', async ({
    assert,
  }) => {
    const dns = new FakeDns()
    dns.failing.add('_sip._udp.carrier.example')
    dns.failing.add('broken.example')
    dns.srv.set('_sip._tcp.carrier.example', [
      { name: 'broken.example', port: 5060, priority: 1, weight: 0 },
      { name: 'fine.example', port: 5060, priority: 2, weight: 0 },
    ])
    dns.a.set('fine.example', ['192.0.2.9'])
    const targets = await new SipResolver(dns, { transports: ['udp', 'tcp'] }).resolve(
      uri('sip:carrier.example')
    )
    assert.deepEqual(brief(targets), ['tcp 192.0.2.9:5060'])
  })

  test('errors that are not DNS errors are not swallowed', async ({ assert }) => {
    const dns = new FakeDns()
    dns.resolveSrv = async () => {
      throw new TypeError('a bug')
    }
    await assert.rejects(() => new SipResolver(dns).resolve(uri('sip:carrier.example')), 'a bug')
  })
})
