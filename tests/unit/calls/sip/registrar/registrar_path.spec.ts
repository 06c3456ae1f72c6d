import { test } from '@japa/runner'
import { DigestClient } from '#sip/auth/digest'
import type SipRequest from '#sip/message/sip_request'
import Registrar from '#sip/registrar/registrar'
import { clientTransportOf, destinationOf, routeOf, type Binding } from '#sip/registrar/binding'
import { parseClientSource } from '#sip/transport/trusted_fronts'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import {
  REALM,
  makeDevice,
  makeHarness,
  register,
  type Harness,
  type RegisterOptions,
} from '#tests/unit/calls/sip/registrar/registrar_fixtures'

const FRONT: SipDestination = { protocol: 'udp', host: '192.0.2.9', port: 5060 }
const PATH = ['<sip:192.0.2.9:5060;lr>', '<sip:192.0.2.10:5070;transport=tcp;lr>']

interface FrontRegister extends RegisterOptions {
  password: string
  /** The X-FluffyCall-Source the transport layer believed; none: not through a front. */
  client?: string
  path?: string[]
  supportedPath?: boolean
  source?: SipDestination
}

/** REGISTER as a trusted front forwards it (Path, Supported, the named client), with digest. */
async function registerThrough(harness: Harness, options: FrontRegister) {
  const build = (cseq: number, authorization?: string): SipRequest => {
    const request = register({ ...options, cseq, authorization })
    for (const hop of options.path ?? []) request.headers.append('Path', hop)
    if (options.supportedPath) request.headers.append('Supported', 'outbound, path')
    request.client = options.client ? parseClientSource(options.client) : undefined
    return request
  }
  const source = options.source ?? FRONT
  const first = await harness.registrar.handle(build(options.cseq ?? 1), source)
  if (first.status !== 401) return first
  const retry = build((options.cseq ?? 1) + 1)
  const digest = new DigestClient({ username: options.username, password: options.password })
  const header = digest.authorize(first, retry)
  if (!header) throw new Error('no challenge to answer')
  return harness.registrar.handle(build((options.cseq ?? 1) + 1, header.value), source)
}

function binding(overrides: Partial<Binding>): Binding {
  return {
    aor: 'sip:fc1@sip.fluffycall.test',
    contactUri: 'sip:abc@def.invalid;transport=ws',
    contact: '<sip:abc@def.invalid;transport=ws>',
    expiresAt: 2,
    registeredAt: 1,
    callId: 'c',
    cseq: 1,
    source: { protocol: 'tcp', host: '192.0.2.9', port: 41000, connectionId: 'front-conn' },
    subject: 's',
    ...overrides,
  }
}

test.group('Registrar behind a trusted front (Path, RFC 3327)', () => {
  test('keeps the Path and the client flow, and echoes the Path in the 200 when the client supports it', async ({
    assert,
  }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    const response = await registerThrough(harness, {
      username: device.username,
      password: device.password,
      client: 'wss:198.51.100.7:50123',
      path: PATH,
      supportedPath: true,
    })
    assert.equal(response.status, 200)
    assert.deepEqual(response.headers.getAll('path'), PATH)
    const [stored] = await harness.registrar.lookup(Registrar.aorFor(device.username, REALM))
    assert.deepEqual(stored.path, PATH)
    assert.equal(stored.flow, 'wss:198.51.100.7:50123')
    assert.deepEqual(stored.source, FRONT, 'the front is where the REGISTER came from')
    // The device's known address is the client's, not the front's.
    assert.deepEqual(harness.credentials.devices.get(device.username)?.knownAddresses, [
      '198.51.100.7',
    ])
  })

  test('without Supported: path the Path is kept but not echoed', async ({ assert }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    const response = await registerThrough(harness, {
      username: device.username,
      password: device.password,
      client: 'udp:198.51.100.7:5062',
      path: PATH,
    })
    assert.equal(response.status, 200)
    assert.isFalse(response.headers.has('path'))
    const [stored] = await harness.registrar.lookup(Registrar.aorFor(device.username, REALM))
    assert.deepEqual(stored.path, PATH)
  })

  test('a Path from a peer that is no trusted front is ignored: not kept, not echoed', async ({
    assert,
  }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    const response = await registerThrough(harness, {
      username: device.username,
      password: device.password,
      path: ['<sip:203.0.113.66:5060;lr>'],
      supportedPath: true,
      source: { protocol: 'udp', host: '203.0.113.5', port: 5062 },
    })
    assert.equal(response.status, 200)
    assert.isFalse(response.headers.has('path'))
    const [stored] = await harness.registrar.lookup(Registrar.aorFor(device.username, REALM))
    assert.isUndefined(stored.path)
    assert.isUndefined(stored.flow)
    assert.deepEqual(destinationOf(stored), stored.source)
  })

  test('a Path that lists no SIP URI is refused with 400', async ({ assert }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    const response = await registerThrough(harness, {
      username: device.username,
      password: device.password,
      client: 'udp:198.51.100.7:5062',
      path: ['<tel:+4930123>'],
    })
    assert.equal(response.status, 400)
  })

  test('failures are counted against the named client: two clients behind one front are not locked out together', async ({
    assert,
  }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    for (let index = 0; index < 10; index++) {
      const response = await registerThrough(harness, {
        username: `fcguess${index}`,
        password: 'guess',
        client: 'udp:198.51.100.66:5062',
      })
      assert.equal(response.status, 401)
    }
    const lock = harness.audit.find((entry) => entry.action === 'sip.auth.locked')
    assert.equal(lock?.ip, '198.51.100.66', 'the scanner behind the front is locked')
    assert.isTrue(await harness.limiter.isScopeLocked('source', '198.51.100.66'))
    assert.isFalse(await harness.limiter.isScopeLocked('source', FRONT.host))
    const other = await registerThrough(harness, {
      username: device.username,
      password: device.password,
      client: 'udp:198.51.100.20:5062',
    })
    assert.equal(other.status, 200, 'another client behind the same front registers')
    const scanner = await registerThrough(harness, {
      username: device.username,
      password: device.password,
      client: 'udp:198.51.100.66:5062',
      callId: 'scanner-call',
    })
    assert.equal(scanner.status, 401, 'the locked client is refused even with the right password')
  })

  test('an encrypted-only login is judged by the client transport (tls behind a udp front passes)', async ({
    assert,
  }) => {
    const device = makeDevice()
    device.credential.encryptedTransportOnly = true
    const harness = makeHarness([device])
    const plain = await registerThrough(harness, {
      username: device.username,
      password: device.password,
      client: 'udp:198.51.100.7:5062',
    })
    assert.equal(plain.status, 403)
    const secure = await registerThrough(harness, {
      username: device.username,
      password: device.password,
      client: 'tls:198.51.100.7:5061',
      callId: 'secure-call',
    })
    assert.equal(secure.status, 200)
  })
})

test.group('Reaching a binding behind a front', () => {
  test('through the first Path hop with the Path as Route set; the same hop reuses its connection', ({
    assert,
  }) => {
    const viaUdp = binding({ path: PATH, flow: 'ws:198.51.100.7:40000' })
    assert.deepEqual(destinationOf(viaUdp), { protocol: 'udp', host: '192.0.2.9', port: 5060 })
    assert.deepEqual(routeOf(viaUdp), PATH)
    const viaTcp = binding({ path: ['<sip:192.0.2.9:41000;transport=tcp;lr>'] })
    assert.deepEqual(destinationOf(viaTcp), viaTcp.source)
    // Kamailio's add_path_received(): the flow's address rides in an escaped parameter.
    const kamailio = binding({
      path: ['<sip:192.0.2.9:5060;lr;received=sip:198.51.100.7:40123%3Btransport%3Dws>'],
    })
    assert.deepEqual(destinationOf(kamailio), { protocol: 'udp', host: '192.0.2.9', port: 5060 })
    const direct = binding({})
    assert.deepEqual(destinationOf(direct), direct.source)
    assert.deepEqual(routeOf(direct), [])
  })

  test("the client's transport: its flow's, else the Contact's transport behind a Path, else the source's", ({
    assert,
  }) => {
    assert.equal(clientTransportOf(binding({ path: PATH, flow: 'wss:198.51.100.7:443' })), 'wss')
    assert.equal(clientTransportOf(binding({ path: PATH })), 'ws')
    assert.equal(clientTransportOf(binding({})), 'tcp', 'no Path: the Contact does not count')
    assert.equal(
      clientTransportOf(binding({ path: PATH, contactUri: 'sip:phone@192.0.2.50:5062' })),
      'tcp'
    )
  })
})
