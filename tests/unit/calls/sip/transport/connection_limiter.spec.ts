import net from 'node:net'
import { test } from '@japa/runner'
import ConnectionLimiter from '#sip/transport/connection_limiter'
import {
  optionsRequest,
  sleep,
  startLayer,
  waitFor,
} from '#tests/unit/calls/sip/transport/transport_fixtures'

function connect(port: number, localAddress = '127.0.0.1') {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress })
  const state = { closed: false, data: '' }
  socket.on('close', () => (state.closed = true))
  socket.on('error', () => {})
  socket.on('data', (chunk) => (state.data += chunk.toString()))
  return { socket, state }
}

test.group('ConnectionLimiter', () => {
  test('caps connections per source and in total, and frees slots on release', ({ assert }) => {
    const limiter = new ConnectionLimiter({ maxPerSource: 2, maxTotal: 3 })
    assert.isTrue(limiter.acquire('a').ok)
    assert.isTrue(limiter.acquire('a').ok)
    assert.deepEqual(limiter.acquire('a'), { ok: false, reason: 'source-limit' })
    assert.isTrue(limiter.acquire('b').ok)
    assert.deepEqual(limiter.acquire('c'), { ok: false, reason: 'total-limit' })
    limiter.release('a')
    assert.equal(limiter.countFor('a'), 1)
    assert.isTrue(limiter.acquire('c').ok)
    assert.equal(limiter.total, 3)
  })

  test('release of an unknown source changes nothing', ({ assert }) => {
    const limiter = new ConnectionLimiter({ maxPerSource: 1, maxTotal: 1 })
    limiter.release('nobody')
    assert.equal(limiter.total, 0)
  })

  test('a TCP source over its cap is disconnected while another source is served', async ({
    assert,
  }) => {
    const { layer, logger } = await startLayer({
      udp: { enabled: false },
      limits: { maxConnectionsPerSource: 2, maxConnections: 100 },
    })
    try {
      const port = layer.localAddress('tcp')!.port
      const first = connect(port)
      const second = connect(port)
      await waitFor(() => layer.connectionLimiter.countFor('127.0.0.1') === 2)
      const third = connect(port)
      await waitFor(() => third.state.closed)
      assert.isFalse(first.state.closed)
      assert.isFalse(second.state.closed)

      const other = connect(port, '127.0.0.2')
      other.socket.write(optionsRequest({ transport: 'TCP', viaHost: '127.0.0.2' }))
      await waitFor(() => other.state.data.includes('SIP/2.0 200'))
      assert.match(logger.text, /source-limit/)

      first.socket.destroy()
      await waitFor(() => layer.connectionLimiter.countFor('127.0.0.1') === 1)
      for (const peer of [second, other]) peer.socket.destroy()
    } finally {
      await layer.close()
    }
  })

  test('an idle stream connection is closed after the idle timeout', async ({ assert }) => {
    const { layer } = await startLayer({
      udp: { enabled: false },
      limits: { idleTimeoutMs: 200 },
    })
    try {
      const client = connect(layer.localAddress('tcp')!.port)
      await sleep(50)
      assert.isFalse(client.state.closed)
      await waitFor(() => client.state.closed, 2000)
      await waitFor(() => layer.connectionLimiter.total === 0)
    } finally {
      await layer.close()
    }
  })
})
