import { test } from '@japa/runner'
import SipStack from '#sip/sip_stack'
import SipUri from '#sip/message/sip_uri'
import SipCarrierSignalling, {
  CarrierSignallingError,
} from '#calls/carriers/sip_carrier_signalling'
import { silentLogger } from '#sip/transport/sip_traffic_logger'
import type SipTransportLayer from '#sip/transport/sip_transport_layer'
import type SipUserAgentCore from '#sip/ua/sip_user_agent_core'
import type { RegistrarParts } from '#calls/signalling/registrar_factory'
import FakeDns from '#tests/unit/calls/sip/resolver/fake_dns'
import { BOB_HOST, createPhonePair, run } from '#tests/unit/calls/sip/support/phone_pair'

/** The next hop is resolved asynchronously: let the request go out before time passes. */
const sent = () => new Promise((resolve) => setImmediate(resolve))

/** A SipStack around nothing but its resolver: UDP and TCP enabled, TLS not. */
function stackWithDns(dns: FakeDns) {
  const layer = {
    config: { udp: { enabled: true }, tcp: { enabled: true }, tls: { enabled: false } },
  }
  return new SipStack(
    layer as unknown as SipTransportLayer,
    {} as SipUserAgentCore,
    {} as RegistrarParts,
    silentLogger,
    { dns }
  )
}

test.group('SipStack.resolveTargets (RFC 3263)', () => {
  test('SRV order across the enabled transports, with the name kept for TLS checks', async ({
    assert,
  }) => {
    const dns = new FakeDns()
    dns.srv.set('_sip._udp.carrier.example', [
      { name: 'b.carrier.example', port: 5080, priority: 20, weight: 0 },
      { name: 'a.carrier.example', port: 5070, priority: 10, weight: 0 },
    ])
    dns.a.set('a.carrier.example', ['192.0.2.10'])
    dns.a.set('b.carrier.example', ['192.0.2.20'])
    dns.srv.set('_sips._tcp.carrier.example', [
      { name: 'tls.carrier.example', port: 5061, priority: 1, weight: 0 },
    ])
    const targets = await stackWithDns(dns).resolveTargets({ host: 'carrier.example' })
    assert.deepEqual(targets, [
      { protocol: 'udp', host: '192.0.2.10', port: 5070, hostname: 'a.carrier.example' },
      { protocol: 'udp', host: '192.0.2.20', port: 5080, hostname: 'b.carrier.example' },
    ])
    assert.notInclude(
      dns.queries,
      'SRV _sips._tcp.carrier.example',
      'TLS is not enabled: not looked up'
    )
  })

  test('an explicit port and an IP literal skip SRV', async ({ assert }) => {
    const dns = new FakeDns()
    dns.a.set('carrier.example', ['192.0.2.30'])
    const stack = stackWithDns(dns)
    assert.deepEqual(
      await stack.resolveTargets({ host: 'carrier.example', port: 5070, transport: 'tcp' }),
      [{ protocol: 'tcp', host: '192.0.2.30', port: 5070, hostname: 'carrier.example' }]
    )
    assert.deepEqual(await stack.resolveTargets(SipUri.parse('sip:+4930123@192.0.2.40')), [
      { protocol: 'udp', host: '192.0.2.40', port: 5060, hostname: '192.0.2.40' },
    ])
    assert.isFalse(dns.queries.some((query) => query.startsWith('SRV')))
  })

  test('no address at all gives an empty list', async ({ assert }) => {
    assert.deepEqual(
      await stackWithDns(new FakeDns()).resolveTargets({ host: 'nowhere.example', port: 5060 }),
      []
    )
  })
})

test.group('SipCarrierSignalling', () => {
  function signallingOnPair() {
    const pair = createPhonePair()
    const signalling = new SipCarrierSignalling({
      core: pair.alice,
      clock: pair.clock,
      resolve: async (target) => [{ protocol: 'udp', host: target.host, port: target.port }],
    })
    return { ...pair, signalling }
  }
  const carrier = { host: BOB_HOST, port: 5060, transport: 'udp' as const }

  test('OPTIONS: the answer status, also a 503 the carrier sent', async ({ assert }) => {
    const { clock, bob, signalling } = signallingOnPair()
    const answered = signalling.sendOptions(carrier, { timeoutMs: 1000 })
    await sent()
    await run(clock, 100)
    assert.deepEqual(await answered, { status: 200 })

    bob.setHandler('OPTIONS', (incoming) => incoming.respond(503))
    const busy = signalling.sendOptions(carrier, { timeoutMs: 1000 })
    await sent()
    await run(clock, 100)
    assert.deepEqual(await busy, { status: 503 })
  })

  test('OPTIONS: silence rejects as a timeout at the check limit, and the transaction is gone', async ({
    assert,
  }) => {
    const { clock, network, alice, signalling } = signallingOnPair()
    network.drop((message) => message.isRequest, Infinity)
    const silent = signalling.sendOptions(carrier, { timeoutMs: 1500 })
    const outcome = silent.then(
      () => null,
      (error: unknown) => error
    )
    await sent()
    await run(clock, 1499)
    assert.equal(alice.transactionCount, 1)
    await run(clock, 1)
    const error = await outcome
    assert.instanceOf(error, CarrierSignallingError)
    assert.equal((error as CarrierSignallingError).code, 'timeout')
    assert.equal(alice.transactionCount, 0, 'ended at our limit, not at Timer F')
  })

  test('a host without address rejects as unresolved', async ({ assert }) => {
    const { clock, alice } = createPhonePair()
    const signalling = new SipCarrierSignalling({ core: alice, clock, resolve: async () => [] })
    await assert.rejects(() => signalling.sendOptions(carrier), /no address/)
  })
})
