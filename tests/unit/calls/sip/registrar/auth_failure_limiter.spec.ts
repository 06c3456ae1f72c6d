import { test } from '@japa/runner'
import AuthFailureLimiter from '#sip/registrar/auth_failure_limiter'
import type { FailureCounters } from '#sip/registrar/failure_counters'
import MemoryCounterStore from '#core/counters/memory_counter_store'
import { DEFAULT_LOCKOUT } from '#sip/registrar/registrar_settings'

/** Counts the reads a limiter makes; `many` false hides getMany (a store without it). */
function counting(many: boolean) {
  const store = new MemoryCounterStore()
  const reads = { get: 0, getMany: 0 }
  const counters: FailureCounters = {
    increment: (key, windowSeconds, by) => store.increment(key, windowSeconds, by),
    reset: (key) => store.reset(key),
    get: (key) => {
      reads.get += 1
      return store.get(key)
    },
    ...(many
      ? {
          getMany: (keys: string[]) => {
            reads.getMany += 1
            return store.getMany(keys)
          },
        }
      : {}),
  }
  return { reads, limiter: new AuthFailureLimiter(counters, DEFAULT_LOCKOUT) }
}

test.group('AuthFailureLimiter: the lock check at each digest answer', () => {
  test('both locks in one read where the counters have getMany', async ({ assert }) => {
    const { reads, limiter } = counting(true)
    assert.deepEqual(await limiter.locks('192.0.2.7', 'alice'), [])
    for (let failure = 0; failure < DEFAULT_LOCKOUT.usernameMaxFailures; failure++)
      await limiter.recordFailure(`192.0.2.${failure + 10}`, 'alice')
    reads.get = 0
    reads.getMany = 0
    assert.deepEqual(await limiter.locks('192.0.2.7', 'alice'), ['username'])
    assert.deepEqual(reads, { get: 0, getMany: 1 })
  })

  test('a store without getMany is read key by key, with the same answer', async ({ assert }) => {
    const { reads, limiter } = counting(false)
    for (let failure = 0; failure < DEFAULT_LOCKOUT.sourceMaxFailures; failure++)
      await limiter.recordFailure('192.0.2.7', `user${failure}`)
    reads.get = 0
    assert.deepEqual(await limiter.locks('192.0.2.7', 'alice'), ['source'])
    assert.equal(reads.get, 2)
  })
})
