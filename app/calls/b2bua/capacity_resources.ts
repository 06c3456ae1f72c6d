import { MediaCapacityError } from '#media'
import { isDatabaseUnavailable } from '#core/database_unavailable'
import { isRedisUnavailable } from '#core/redis_unavailable'

/** What ran out when a call was refused with 503: counted per resource, logged as a warning. */
export type CapacityResource =
  'rtp_ports' | 'webrtc_ports' | 'media_engine' | 'calls' | 'memory' | 'database' | 'redis'

/** The resource an error says ran out, or null when it is some other failure. */
export function resourceOf(error: unknown): CapacityResource | null {
  if (error instanceof MediaCapacityError) return error.resource
  // knex's pool (PostgreSQL), the server gone, SQLite's lock: no more work right now.
  if (isDatabaseUnavailable(error)) return 'database'
  // Redis out of reach (config/redis.ts bounds the wait): the shared counters, leases and nonce
  // counts cannot be read, so the call cannot be checked.
  if (isRedisUnavailable(error)) return 'redis'
  return null
}
