import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from '@japa/runner'
import WebSocket from 'ws'
import FakeClock from '#sip/clock/fake_clock'
import WebPhoneDisconnects from '#calls/b2bua/web_phone_disconnects'
import {
  TEST_ORIGIN,
  startLayer,
  waitFor,
} from '#tests/unit/calls/sip/transport/transport_fixtures'

/**
 * The real SIP WebSocket transport on an HTTP server and a real WebSocket client: a close frame
 * ends the connection's calls at once, a dropped socket after the grace period (virtual time).
 * The B2BUA's side (BYE, CDR) is proven in tests/browser/phone/web_phone_navigation.spec.ts.
 */
async function setup(graceSeconds = 5) {
  const { layer } = await startLayer({
    udp: { enabled: false },
    tcp: { enabled: false },
    ws: { enabled: true },
  })
  const server = http.createServer((_request, response) => response.end('app'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  layer.attachHttpServer(server)
  const clock = new FakeClock()
  const ended: Array<[string, 'closed' | 'lost']> = []
  const disconnects = new WebPhoneDisconnects({
    onConnectionClosed: (listener) => layer.onConnectionClosed(listener),
    endCallsOn: async (connectionId, how) => ended.push([connectionId, how]),
    graceSeconds,
    clock,
    onError: (error) => {
      throw error
    },
  })
  disconnects.start()
  const port = (server.address() as AddressInfo).port
  const connect = async () => {
    const client = new WebSocket(`ws://127.0.0.1:${port}/sip`, ['sip'], { origin: TEST_ORIGIN })
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject))
    await waitFor(() => layer.webSocket!.connectionCount === 1)
    return client
  }
  return {
    layer,
    clock,
    ended,
    disconnects,
    connect,
    async close() {
      disconnects.stop()
      await layer.close()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

test.group('Web phone disconnects (SIP WebSocket closed or dropped)', () => {
  test('a close frame from the page ends the connection calls at once', async ({ assert }) => {
    const { connect, ended, disconnects, close } = await setup()
    try {
      const client = await connect()
      client.close(1001, 'page closed')
      await waitFor(() => ended.length === 1)
      assert.equal(ended[0][1], 'closed')
      assert.match(ended[0][0], /^ws-/)
      assert.equal(disconnects.pending, 0)
    } finally {
      await close()
    }
  })

  test('a dropped socket (no close frame) gets the grace period, then its calls end', async ({
    assert,
  }) => {
    const { connect, ended, disconnects, clock, close } = await setup(5)
    try {
      const client = await connect()
      client.terminate()
      await waitFor(() => disconnects.pending === 1)
      assert.deepEqual(ended, [])
      clock.advance(4999)
      assert.deepEqual(ended, [])
      clock.advance(1)
      assert.lengthOf(ended, 1)
      assert.equal(ended[0][1], 'lost')
      assert.equal(disconnects.pending, 0)
    } finally {
      await close()
    }
  })

  test('a connection we close ourselves (revoked login, idle) counts as dropped', async ({
    assert,
  }) => {
    const { connect, layer, ended, disconnects, clock, close } = await setup(2)
    try {
      await connect()
      const closedIds: string[] = []
      const stop = layer.onConnectionClosed(({ connectionId }) => closedIds.push(connectionId))
      // The id is only known to the server: close every open one through the transport.
      await layer.webSocket!.close()
      stop()
      assert.lengthOf(closedIds, 1)
      assert.equal(disconnects.pending, 1)
      clock.advance(2000)
      assert.deepEqual(ended, [[closedIds[0], 'lost']])
    } finally {
      await close()
    }
  })

  test('stop() cancels running grace periods and listens no more', async ({ assert }) => {
    const { connect, ended, disconnects, clock, close } = await setup(5)
    try {
      const client = await connect()
      client.terminate()
      await waitFor(() => disconnects.pending === 1)
      disconnects.stop()
      clock.advance(10_000)
      assert.deepEqual(ended, [])
    } finally {
      await close()
    }
  })
})
