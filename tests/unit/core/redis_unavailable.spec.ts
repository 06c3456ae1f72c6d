import net from 'node:net'
import { test } from '@japa/runner'
import { Redis, type RedisOptions } from 'ioredis'
import { isRedisUnavailable } from '#core/redis_unavailable'
import { resourceOf } from '#calls/b2bua/capacity_resources'
import { freePort } from '#tests/support/sip_peers'

/**
 * The errors ioredis really gives with config/redis.ts's bounds, from a port where nothing
 * listens and from a server that accepts and never answers: both mean "Redis out of reach",
 * which a call turns into 503 (resource 'redis'); other errors do not.
 */
/** What a GET on a client with these options fails with (null if it succeeds). */
async function failureOfGet(options: RedisOptions) {
  const redis = new Redis(options)
  redis.on('error', () => {})
  try {
    return await redis.get('key').then(
      () => null,
      (failure: unknown) => failure
    )
  } finally {
    redis.disconnect()
  }
}

test.group('Redis out of reach: the errors', () => {
  test('nothing listening: the command fails after the reconnects (MaxRetriesPerRequestError)', async ({
    assert,
  }) => {
    const error = await failureOfGet({
      host: '127.0.0.1',
      port: await freePort('tcp'),
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 10,
    })
    assert.isTrue(isRedisUnavailable(error), String(error))
    assert.equal(resourceOf(error), 'redis')
  })

  test('a Redis that never answers: the command times out', async ({ assert }) => {
    const sockets = new Set<net.Socket>()
    const silent = net.createServer((socket) => sockets.add(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const error = await failureOfGet({
        host: '127.0.0.1',
        port: (silent.address() as net.AddressInfo).port,
        maxRetriesPerRequest: 1,
        commandTimeout: 100,
        enableReadyCheck: false,
      })
      assert.isTrue(isRedisUnavailable(error), String(error))
      assert.equal(resourceOf(error), 'redis')
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => silent.close(resolve))
    }
  })

  test('other errors are not Redis out of reach', ({ assert }) => {
    for (const error of [
      new Error('ERR wrong number of arguments'),
      new Error('something timed out'),
      'Command timed out',
      null,
    ]) {
      assert.isFalse(isRedisUnavailable(error), String(error))
    }
    assert.isNull(resourceOf(new Error('ERR wrong number of arguments')))
  })
})
