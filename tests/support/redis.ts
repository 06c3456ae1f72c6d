import { Redis } from 'ioredis'

/** Redis tests run when REDIS_HOST is set (as in .ci/run); without it they are not registered. */
export const redisConfigured = Boolean(process.env.REDIS_HOST)

export function redisConnectionOptions() {
  return {
    host: process.env.REDIS_HOST || '127.0.0.1',
    port: Number(process.env.REDIS_PORT || 6379),
    password: process.env.REDIS_PASSWORD || undefined,
  }
}

/**
 * A connection for tests that fails fast, with a message naming the service and how to start it,
 * when REDIS_HOST is set but Redis does not answer.
 */
export async function connectRedis() {
  const options = redisConnectionOptions()
  const redis = new Redis({
    ...options,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  })
  try {
    await redis.connect()
    await redis.ping()
  } catch (error) {
    redis.disconnect()
    throw new Error(
      `Redis is not reachable at ${options.host}:${options.port} although REDIS_HOST is set ` +
        `(${(error as Error).message}). Start it (e.g. \`redis-server --daemonize yes\` or ` +
        '`service redis-server start`) or unset REDIS_HOST to run without Redis.'
    )
  }
  return redis
}

/** Deletes every key under a prefix (what a test wrote). */
export async function deleteKeys(redis: Redis, prefix: string) {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
    if (keys.length) await redis.del(...keys)
    cursor = next
  } while (cursor !== '0')
}
