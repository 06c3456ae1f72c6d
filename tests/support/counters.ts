import app from '@adonisjs/core/services/app'

/** Where RedisCounterStore keeps the app's counters, under the connection's REDIS_PREFIX. */
const COUNTER_KEYS = 'fluffycall:counter:'

/**
 * Empties the app's shared counters: the memory store, or in Redis every counter key under this
 * run's REDIS_PREFIX (nothing else: queues and other agents' prefixes stay). Counters outlive the
 * test database while rolled-back or re-migrated ids come again, so tests that run the call gates
 * start from here.
 */
export async function resetCounters() {
  const counters = await app.container.make('counters')
  if (counters.driver === 'memory') return counters.close()
  const redis = (await app.container.make('redis')).connection('main').ioConnection
  const keyPrefix = String(redis.options.keyPrefix ?? '')
  // SCAN matches whole key names (ioredis does not add the prefix to patterns); DEL adds it again.
  const pattern = `${keyPrefix}${COUNTER_KEYS}`.replace(/[*?[\]\\]/g, '\\$&') + '*'
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    if (keys.length) await redis.del(...keys.map((key) => key.slice(keyPrefix.length)))
    cursor = next
  } while (cursor !== '0')
}
