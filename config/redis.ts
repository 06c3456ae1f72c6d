import env from '#start/env'
import { defineConfig } from '@adonisjs/redis'

/**
 * Redis is optional. Without REDIS_HOST nothing connects to it: jobs run in process and counters
 * live in memory (see app/core/queue and app/core/counters).
 */
export const redisEnabled = Boolean(env.get('REDIS_HOST'))

const redisConfig = defineConfig({
  connection: 'main',
  connections: {
    main: {
      host: env.get('REDIS_HOST') || '127.0.0.1',
      port: env.get('REDIS_PORT', 6379),
      password: env.get('REDIS_PASSWORD') || undefined,
      db: 0,
      keyPrefix: env.get('REDIS_PREFIX', ''),
      lazyConnect: true,
      // Redis out of reach must not hold a call, a page or /readyz: a command waiting for the
      // connection fails once a reconnect has failed twice (50 ms apart at first, at most 2 s
      // apart later), and any command fails after 3 s without a reply (a hung Redis). The call
      // then gets 503 with Retry-After (app/calls/b2bua), /readyz 503. BullMQ has connections
      // of its own that wait (providers/app_provider.ts).
      maxRetriesPerRequest: 1,
      commandTimeout: 3000,
    },
  },
})

export default redisConfig

declare module '@adonisjs/redis/types' {
  export interface RedisConnections extends InferConnections<typeof redisConfig> {}
}
