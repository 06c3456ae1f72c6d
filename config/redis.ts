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
      maxRetriesPerRequest: null,
    },
  },
})

export default redisConfig

declare module '@adonisjs/redis/types' {
  export interface RedisConnections extends InferConnections<typeof redisConfig> {}
}
