import { test } from '@japa/runner'
import FakeClock from '#sip/clock/fake_clock'
import type SipRequest from '#sip/message/sip_request'
import TrustedFronts, { clientOf, parseClientSource } from '#sip/transport/trusted_fronts'
import type { SipMessageSource } from '#sip/transport/sip_transport_user'
import { parseRequest } from '#tests/unit/calls/sip/sip_fixtures'
import {
  optionsRequest,
  startLayer,
  udpPeer,
  waitFor,
} from '#tests/unit/calls/sip/transport/transport_fixtures'

/** An OPTIONS with the given X-FluffyCall-Source lines. */
function withSource(sources: string[], branch = 'z9hG4bKfront1'): string {
  const [head, ...rest] = optionsRequest({ branch }).split('\r\n')
  return [head, ...sources.map((value) => `X-FluffyCall-Source: ${value}`), ...rest].join('\r\n')
}

test.group('Trusted fronts / the X-FluffyCall-Source value', () => {
  test('reads proto, address and port; IPv6 in brackets; the flow is kept as written', ({
    assert,
  }) => {
    assert.deepEqual(parseClientSource('udp:198.51.100.7:5062'), {
      protocol: 'udp',
      host: '198.51.100.7',
      port: 5062,
      flow: 'udp:198.51.100.7:5062',
    })
    assert.deepEqual(parseClientSource(' WSS:[2001:db8::7]:50123 '), {
      protocol: 'wss',
      host: '2001:db8::7',
      port: 50123,
      flow: 'wss:[2001:db8::7]:50123',
    })
    for (const bad of [
      'sctp:198.51.100.7:5062',
      'udp:2001:db8::7:5062',
      'udp:[198.51.100.7]:5062',
      'udp:198.51.100.7:0',
      'udp:198.51.100.7:70000',
      'udp:198.51.100.7',
      'tcp:phone.example.com:5060',
      'udp:198.51.100.7:5062, udp:192.0.2.1:5060',
      '',
    ]) {
      assert.isUndefined(parseClientSource(bad), bad)
    }
  })

  test('believed only from a listed front; taken off every request either way', ({ assert }) => {
    const fronts = new TrustedFronts(['192.0.2.0/28', '2001:db8:f::1'])
    const fromFront = parseRequest(withSource(['ws:198.51.100.7:40000']))
    assert.deepEqual(fronts.takeClient(fromFront, '192.0.2.9')?.flow, 'ws:198.51.100.7:40000')
    assert.isFalse(fromFront.headers.has('x-fluffycall-source'))

    const v6 = parseRequest(withSource(['tls:[2001:db8::5]:5061']))
    assert.equal(fronts.takeClient(v6, '2001:db8:f::1')?.host, '2001:db8::5')
    const mapped = parseRequest(withSource(['udp:198.51.100.7:5062']))
    assert.equal(fronts.takeClient(mapped, '::ffff:192.0.2.1')?.host, '198.51.100.7')

    const outsider = parseRequest(withSource(['ws:198.51.100.7:40000']))
    assert.isUndefined(fronts.takeClient(outsider, '192.0.2.16'))
    assert.isFalse(outsider.headers.has('x-fluffycall-source'), 'not passed on either')

    const twice = parseRequest(withSource(['udp:198.51.100.7:5062', 'udp:198.51.100.8:5062']))
    assert.isUndefined(fronts.takeClient(twice, '192.0.2.9'), 'two sources: none believed')
    assert.isUndefined(fronts.takeClient(parseRequest(withSource([])), '192.0.2.9'))
  })

  test('an empty list believes nobody, loopback included; a bad entry fails naming it', ({
    assert,
  }) => {
    const none = new TrustedFronts([])
    assert.isUndefined(
      none.takeClient(parseRequest(withSource(['udp:198.51.100.7:5062'])), '127.0.0.1')
    )
    assert.throws(() => new TrustedFronts(['kamailio.local']), /"kamailio.local" is not an IP/)
  })

  test('clientOf: the named client behind a front, else the source itself', ({ assert }) => {
    const source = { protocol: 'udp' as const, host: '192.0.2.9', port: 5060 }
    const direct = parseRequest(optionsRequest())
    assert.deepEqual(clientOf(direct, source), source)
    const forwarded = parseRequest(withSource(['wss:198.51.100.7:443']))
    forwarded.client = parseClientSource('wss:198.51.100.7:443')
    assert.deepEqual(clientOf(forwarded, source), {
      protocol: 'wss',
      host: '198.51.100.7',
      port: 443,
    })
  })
})

test.group('Trusted fronts / in the transport layer', () => {
  test('a front names the client for the layer above, another peer cannot; each client behind a front has its own flood budget', async ({
    assert,
  }) => {
    // A clock that stands still: no refill during the test, however slow the machine is.
    const { layer } = await startLayer(
      {
        trustedFronts: ['127.0.0.2'],
        rateLimit: {
          enabled: true,
          burst: 5,
          perSecond: 1,
          maxSources: 100,
          trusted: { burst: 1000, perSecond: 1000 },
        },
      },
      new FakeClock()
    )
    const seen: Array<{ request: SipRequest; source: SipMessageSource }> = []
    layer.attach({
      onRequest: (request, source) => seen.push({ request, source }),
      onResponse: () => {},
    })
    const front = await udpPeer('127.0.0.2')
    const outsider = await udpPeer('127.0.0.3')
    const port = layer.localAddress('udp')!.port
    try {
      await outsider.send(withSource(['ws:198.51.100.66:4000'], 'z9hG4bKout'), port)
      await waitFor(() => seen.length === 1)
      assert.isUndefined(seen[0].request.client, 'not from a front: not believed')
      assert.isFalse(seen[0].request.headers.has('x-fluffycall-source'))
      assert.equal(seen[0].source.address, '127.0.0.3')

      // Client A floods through the front: 12 requests, its burst of 5 passes.
      for (let i = 0; i < 12; i++) {
        await front.send(withSource(['ws:198.51.100.7:40000'], `z9hG4bKa${i}`), port)
      }
      await waitFor(() => layer.stats.rateLimited === 7)
      // Client B behind the same front is still served, and so is the front's own request.
      await front.send(withSource(['wss:[2001:db8::9]:443'], 'z9hG4bKb'), port)
      await front.send(withSource([], 'z9hG4bKown'), port)
      await waitFor(() => seen.length === 1 + 5 + 2)
      const fromA = seen.filter(({ request }) => request.client?.host === '198.51.100.7')
      assert.lengthOf(fromA, 5)
      assert.deepEqual(fromA[0].request.client, {
        protocol: 'ws',
        host: '198.51.100.7',
        port: 40000,
        flow: 'ws:198.51.100.7:40000',
      })
      // Replies still go to the front, never to the address the header names.
      assert.equal(fromA[0].source.responseDestination.host, '127.0.0.2')
      const b = seen.find(({ request }) => request.client?.host === '2001:db8::9')
      assert.equal(b?.request.client?.flow, 'wss:[2001:db8::9]:443')
      const own = seen.at(-1)!
      assert.isUndefined(own.request.client, 'no header: the front itself')
      assert.equal(layer.stats.rateLimited, 7)
    } finally {
      await front.close()
      await outsider.close()
      await layer.close()
    }
  })
})
