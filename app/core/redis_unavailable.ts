/**
 * Whether an error means Redis is out of reach: what ioredis rejects a command with once
 * config/redis.ts's bounds are spent (a reconnect failed twice, no reply within the command
 * timeout) or the connection was closed. Such a request cannot be checked now, so it is refused
 * as unavailable (a call's 503 with Retry-After, a page's 503), never left waiting.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (error.name === 'MaxRetriesPerRequestError') return true
  return /^(Command timed out|Connection is closed\.|Stream isn't writeable)/.test(error.message)
}
