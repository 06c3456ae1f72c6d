import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from '@japa/runner'
import WebSocket from 'ws'
import SipRequest from '#sip/message/sip_request'
import SipHeaders from '#sip/message/sip_headers'
import SipUri from '#sip/message/sip_uri'
import type { SipMessageSource } from '#sip/transport/sip_transport_user'
import {
  TEST_ORIGIN,
  optionsRequest,
  startLayer,
  waitFor,
} from '#tests/unit/calls/sip/transport/transport_fixtures'

async function setup(ws: Record<string, unknown> = {}) {
  const { layer, logger } = await startLayer({
    udp: { enabled: false },
    tcp: { enabled: false },
    ws: { enabled: true, ...ws },
  })
  const server = http.createServer((_request, response) => response.end('app'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  layer.attachHttpServer(server)
  const port = (server.address() as AddressInfo).port
  return {
    layer,
    logger,
    port,
    server,
    async close() {
      await layer.close()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

function open(
  port: number,
  options: {
    origin?: string
    protocols?: string[]
    path?: string
    headers?: Record<string, string>
  } = {}
) {
  const client = new WebSocket(
    `ws://127.0.0.1:${port}${options.path ?? '/sip'}`,
    options.protocols ?? ['sip'],
    { origin: options.origin ?? TEST_ORIGIN, headers: options.headers }
  )
  const messages: string[] = []
  client.on('message', (data) => messages.push(data.toString()))
  const outcome = new Promise<{ opened: true } | { opened: false; status: number }>((resolve) => {
    client.once('open', () => resolve({ opened: true }))
    client.once('unexpected-response', (_request, response) =>
      resolve({ opened: false, status: response.statusCode ?? 0 })
    )
    client.once('error', () => resolve({ opened: false, status: 0 }))
  })
  return { client, messages, outcome }
}

test.group('WebSocket transport (RFC 7118)', () => {
  test('an allowed origin gets OPTIONS answered and keep-alives echoed', async ({ assert }) => {
    const { port, close } = await setup()
    const { client, messages, outcome } = open(port)
    try {
      assert.deepEqual(await outcome, { opened: true })
      assert.equal(client.protocol, 'sip')
      client.send(optionsRequest({ transport: 'WS', viaHost: 'df7jal23ls0d.invalid' }))
      await waitFor(() => messages.length === 1)
      assert.match(messages[0], /^SIP\/2\.0 200 OK\r\n/)
      assert.match(messages[0], /received=127\.0\.0\.1/)
      client.send('\r\n\r\n')
      await waitFor(() => messages.length === 2)
      assert.equal(messages[1], '\r\n')
    } finally {
      client.terminate()
      await close()
    }
  })

  test('a foreign or missing origin is refused with 403 before the upgrade', async ({ assert }) => {
    const { port, close, logger } = await setup()
    try {
      assert.deepEqual(await open(port, { origin: 'http://evil.example' }).outcome, {
        opened: false,
        status: 403,
      })
      assert.match(logger.text, /origin-not-allowed/)
    } finally {
      await close()
    }
  })

  test('a client that does not offer the sip subprotocol is refused', async ({ assert }) => {
    const { port, close } = await setup()
    try {
      const result = await open(port, { protocols: ['chat'] }).outcome
      assert.deepEqual(result, { opened: false, status: 400 })
    } finally {
      await close()
    }
  })

  test('other paths are left to other upgrade listeners', async ({ assert }) => {
    const { port, close, layer, server } = await setup()
    const elsewhere: string[] = []
    server.on('upgrade', (request, socket) => {
      if (request.url !== '/sip') {
        elsewhere.push(request.url ?? '')
        socket.destroy()
      }
    })
    try {
      const result = await open(port, { path: '/elsewhere' }).outcome
      assert.isFalse(result.opened)
      assert.deepEqual(elsewhere, ['/elsewhere'])
      assert.equal(layer.webSocket!.connectionCount, 0)
      assert.equal(layer.connectionLimiter.total, 0)
    } finally {
      await close()
    }
  })

  test('requests reach the browser over its stored connection; X-Forwarded-For only from trusted proxies', async ({
    assert,
  }) => {
    const { port, close, layer } = await setup({ trustedProxies: ['loopback'] })
    const sources: SipMessageSource[] = []
    layer.attach({ onRequest: (_request, source) => sources.push(source), onResponse() {} })
    const { client, messages, outcome } = open(port, {
      headers: { 'X-Forwarded-For': '203.0.113.5', 'X-Forwarded-Proto': 'https' },
    })
    try {
      await outcome
      client.send(optionsRequest({ transport: 'WSS', viaHost: 'df7jal23ls0d.invalid' }))
      await waitFor(() => sources.length === 1)
      const source = sources[0]
      assert.equal(source.address, '203.0.113.5')
      assert.equal(source.protocol, 'wss')
      assert.isString(source.connectionId)

      const headers = new SipHeaders([
        ['Via', 'SIP/2.0/WSS fluffycall.invalid;branch=z9hG4bKtobrowser'],
        ['From', '<sip:pbx@fluffycall.test>;tag=1'],
        ['To', '<sip:alice@fluffycall.test>'],
        ['Call-ID', 'to-browser'],
        ['CSeq', '1 OPTIONS'],
      ])
      const request = new SipRequest(
        'OPTIONS',
        SipUri.parse('sip:alice@df7jal23ls0d.invalid;transport=ws'),
        headers
      )
      layer.send(request, {
        protocol: 'wss',
        host: 'df7jal23ls0d.invalid',
        port: 0,
        connectionId: source.connectionId,
      })
      await waitFor(() => messages.length === 1)
      assert.match(messages[0], /^OPTIONS sip:alice@df7jal23ls0d\.invalid;transport=ws SIP\/2\.0/)

      client.terminate()
      await waitFor(() => !layer.transportFor('ws').hasConnection(source.connectionId!))
      assert.throws(() =>
        layer.send(request, {
          protocol: 'ws',
          host: 'x.invalid',
          port: 0,
          connectionId: source.connectionId,
        })
      )
      await waitFor(() => layer.connectionLimiter.total === 0)
    } finally {
      client.terminate()
      await close()
    }
  })
})
