import { createHash } from 'node:crypto'
import type { CounterStore } from '#core/counters/types'

/** At most `max` uses of `key` in a fixed window of `windowSeconds`. */
export interface Limit {
  key: string
  max: number
  windowSeconds: number
}

/**
 * Counts one use against every limit (all of them, so each keeps counting) and answers whether all
 * of them still allow it. Runs on the shared counters: in memory without Redis, in Redis with it.
 */
export async function withinLimits(counters: CounterStore, limits: Limit[]) {
  let allowed = true
  for (const limit of limits) {
    if ((await counters.increment(limit.key, limit.windowSeconds)) > limit.max) allowed = false
  }
  return allowed
}

/** A counter key part for a personal value (an email address) that keeps the value itself out of Redis. */
export function keyPart(value: string) {
  return createHash('sha256').update(value.trim().toLowerCase()).digest('base64url').slice(0, 22)
}
